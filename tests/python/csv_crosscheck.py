"""Cross-checks sbench's CSV dialect against Python's csv module.

usage: csv_crosscheck.py write OUT.csv     write tricky rows with csv.writer (sbench reads them)
       csv_crosscheck.py read IN.csv OUT.json   read sbench's file with csv.reader, dump rows as JSON
"""
import csv
import json
import sys

ROWS = [
    ["id", "name", "note", "value"],
    ["AL-2008-5#-00000001", "plain", "", "1.5"],
    ["IA-2015-7#-00191972", "comma, inside", 'a "quoted" word', "-2"],
    ["x", "new\nline", "crlf\r\ninside", "NA"],
    ["y", " leading space", "trailing space ", ""],
    ["z", "\u00e9t\u00e9 \u65e5\u672c", '"', "1e-3"],
]

if sys.argv[1] == "write":
    with open(sys.argv[2], "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(ROWS)
    print(json.dumps(ROWS))
else:
    with open(sys.argv[2], newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    with open(sys.argv[3], "w", encoding="utf-8") as f:
        json.dump(rows, f)
