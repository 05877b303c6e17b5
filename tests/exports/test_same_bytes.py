"""The writers keep their bytes: every file of the SDTM, ADaM, ODM and FHIR exports of the
demo trial (built as of a fixed day) hashes as the writers of release 0.1 (commit 5c04b89,
one ElementTree per document, per-row Python) made it.

How the expected hashes were produced: at commit 5c04b89 this test ran with
`PHASEONE_RECORD_BYTES=1`, which prints the hashes instead of checking them. What varies
from one build of the demo to the next is masked before hashing: the clock time at which the
audit trail and the signatures were written (ODM `DateTimeStamp`); the per-patient date
shifts, drawn at random, are fixed. A faster writer must give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from phaseone.demo.build import build_demo
from phaseone.exports import snapshot
from phaseone.exports.package import write, write_fhir, write_odm
from phaseone.protocol import resolve_protocol
from phaseone.store.access import Source, system_actor
from phaseone.store.db import Database
from phaseone.store.models import Patient
from phaseone.store.scope import Scope

TODAY = dt.date(2026, 3, 1)
CREATED = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
STAMP = re.compile(rb"<DateTimeStamp>[^<]*</DateTimeStamp>")

EXPECTED = {
    "identified": {
        "adam/adae.xpt": "75fb152daf676fa1bdfdc789e7a35a773512a8382ff6057a9076a4776e404092",
        "adam/adsl.xpt": "4a6fbcfa5cef782f426aa96110ae62b5fade5bd5b9c58a93ee4108eb0544fd8c",
        "adam/define.xml": "3d6d687da028014bef397c463e64dd674f22602b556989e81cdf4a20ec843292",
        "adam/manifest.json": "be5acbaed96ee466f605f687612d22c7e847b48d80a57217c6c2c8311c5df353",
        "fhir/*.fhir.json": "f99352ca492931c2ef96aae2cc7ab7ce8b6976f7639f1ebf0f34a7103e547bd2",
        "odm/*.odm.xml": "9df5ef1912cb2fa9119840eee9865bea1a3aeb645caf8c1ad902ca4592a6374a",
        "sdtm/ae.xpt": "355c4cb72d7a0b7b1be96d277220f66ffa4e588513d0a56e45538ff14ab92088",
        "sdtm/define.xml": "21151c9e9f55cde8105acc9d8f2169c64657474132f9d82ffaac1c5480271bef",
        "sdtm/dm.xpt": "bc91a0b6b1792228565395b01b9a5b685e332a06d07cff3a2d3945c756c4dc1f",
        "sdtm/ds.xpt": "ad3119300c16cf155fb34eab61f3e767cb58ee0981e81e6097fc2fc47c135847",
        "sdtm/ex.xpt": "cf007fce0f1a32d0d53dda3817dc1874264d7c730179f44d3aaaaa17b21204ab",
        "sdtm/lb.xpt": "afe24a3942cb31316790d3c06f844df8b2548bb76967d1a62745be359ecec6c9",
        "sdtm/manifest.json": "16c02fc08d0d2d8473a544b5490ac99894cd08efa1f4f1868fc4fed7b2090f85",
        "sdtm/suppae.xpt": "1084db4617ac3ca59d071c4224e4eaa18358ff2273b389263e412e6a2857890e",
        "sdtm/sv.xpt": "21a00856756a6c67a5bb52c03db6dbdf6b36f5d22dd530630bcfe07ad4943a91",
        "sdtm/ts.xpt": "3f03b60ab513c4083373036a822e904b03b16ac881e707af0d68652899445093",
        "sdtm/vs.xpt": "19b1578bb39c88bfccfddd8d480fceb987166a889bc4afbf97ecee127fe3b34e",
    },
    "deidentified": {
        "adam/adae.xpt": "5b28357462e4dd13d701ed252158632a3e89f7367aa225484b55189f60456b53",
        "adam/adsl.xpt": "388fb808ae9783f575f1aeaa40b20744c3e5a3836f292e761f1468c720417254",
        "adam/define.xml": "3d6d687da028014bef397c463e64dd674f22602b556989e81cdf4a20ec843292",
        "adam/manifest.json": "2179ee3ff29cdf5eb43f31dee4e3b2175a6786884be4495c7ef23c2c142f94b4",
        "fhir/*.fhir.json": "8d2ebd742a70e79fe97b65e386fc8a805c6c2216e4da6ae01659c4beee3ada1c",
        "odm/*.odm.xml": "13e0292f94e9576af7c3516cb133bfaa0db57c2b7f56c0bfc83540150af9effa",
        "sdtm/ae.xpt": "46f598a20b2cd79af1c97fd6784d52850af744dcaa5d88ddf7510c7a029c82f1",
        "sdtm/define.xml": "21151c9e9f55cde8105acc9d8f2169c64657474132f9d82ffaac1c5480271bef",
        "sdtm/dm.xpt": "37eeae1a21818d02ea9e28e5e5b41932257e2b922f031f08bad127c6fdc3d24f",
        "sdtm/ds.xpt": "55579517c2317dce87d74e740e95d99a8e611c525abb3ac746cfac357f5c14e3",
        "sdtm/ex.xpt": "3affb8977838dfa87be7f20e34945d7e45d310ebd3dd89633f8f7448ad6636d5",
        "sdtm/lb.xpt": "c06fcb935f2b1372853e355143e2ab86f2ceaf1ac8b8060a7274e24a884cea0f",
        "sdtm/manifest.json": "9a3acb710450f734bb09566a25b95c92a07c61563b5b41d14c22851d4d98f885",
        "sdtm/suppae.xpt": "1084db4617ac3ca59d071c4224e4eaa18358ff2273b389263e412e6a2857890e",
        "sdtm/sv.xpt": "a78d17a4e1096757c29e90d5e8589857265ee8ed368b81a6b40ce178e3c6f0ea",
        "sdtm/ts.xpt": "3f03b60ab513c4083373036a822e904b03b16ac881e707af0d68652899445093",
        "sdtm/vs.xpt": "2f22f2057f0844360b0bd83a23236d0444c6079380a181d83393de04aaa66c92",
    },
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    folder = tmp_path_factory.mktemp("demo")
    db = Database(f"sqlite:///{folder / 'demo.sqlite3'}")
    build_demo(db, resolve_protocol("nant-2011-04"), TODAY, "a demo password of some length")
    # Each patient's date shift is drawn at random when the patient is created; fixed here so
    # the de-identified files are the same from one build to the next.
    with db.transaction() as session:
        session.execute(update(Patient).values(date_shift_days=-(Patient.id * 7 % 29) - 3))
    yield db
    db.dispose()


def _export(db: Database, out: Path, deidentify: bool) -> dict[str, str]:
    protocol = resolve_protocol("nant-2011-04")
    with db.transaction() as session:
        scope = Scope(session, system_actor("test", Source.cli))
        snap = snapshot.read(scope, protocol, purpose="test", deidentify=deidentify)
        for kind in ("sdtm", "adam"):
            write(snap, kind, out / kind, created=CREATED)
        write_odm(scope, snap, out / "odm", created=CREATED)
        write_fhir(snap, out / "fhir", created=CREATED)
    hashes = {}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            data = STAMP.sub(b"<DateTimeStamp/>", path.read_bytes())
            hashes[str(path.relative_to(out)).replace(protocol.id, "*")] = hashlib.sha256(
                data
            ).hexdigest()
    return hashes


@pytest.mark.parametrize("deidentify", [False, True], ids=["identified", "deidentified"])
def test_every_export_file_keeps_its_bytes(
    demo: Database, tmp_path: Path, deidentify: bool
) -> None:
    hashes = _export(demo, tmp_path, deidentify)
    key = "deidentified" if deidentify else "identified"
    if os.environ.get("PHASEONE_RECORD_BYTES"):
        print(f"\n{key!r}: {hashes!r},")
        return
    assert hashes == EXPECTED[key]
