"""The demo trial: invented patients driven through the real workflow."""
