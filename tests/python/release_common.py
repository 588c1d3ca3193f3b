"""What the release fixture scripts share: CSV writing, the problem report, the command line."""
import csv
import sys


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def report(problems, checked, what):
    """Prints the first problems and a summary line; exits 1 when there is any problem."""
    for p in problems[:20]:
        print(p)
    print(f"checked {checked} {what}, {len(problems)} problems")
    sys.exit(1 if problems else 0)


def main(make, check):
    """usage: SCRIPT make OUT [...] | SCRIPT check OUT STORE: calls make(argv) or check(argv)."""
    if sys.argv[1] == "make":
        make(sys.argv[2:])
    elif sys.argv[1] == "check":
        check(sys.argv[2:])
    else:
        sys.exit(f"usage: {sys.argv[0]} make OUT ... | check OUT STORE")
