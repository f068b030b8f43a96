"""alscell's own CSV format: one file per record type, the columns of the clinical data set."""

from alscell.interop.csv.transfer import read_csv_dir, write_csv_dir

__all__ = ["read_csv_dir", "write_csv_dir"]
