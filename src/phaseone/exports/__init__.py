"""Exports of the trial database in the forms sponsors and regulators read (CDISC SDTM as SAS
transport version 5 files with define.xml)."""
