from tests.exports.conftest import trial_world  # noqa: F401  (the same two-patient trial)
