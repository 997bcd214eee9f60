"""Print the mutation score of each mutated module after `make mutate`.

Reads mutmut's results under mutants/. A mutant counts as killed when a test failed, the
tests ran past the time limit, or the type checker rejected it; "no tests" mutants count
against the score (no selected test reaches that code). `--survivors` also prints each
surviving mutant's change with its line in the source file.
"""

from __future__ import annotations

import argparse
import ast
from collections import Counter
from pathlib import Path

from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files
from mutmut.utils.format_utils import orig_function_and_class_names_from_key

KILLED = {"killed", "timeout", "caught by type check"}
NOT_COUNTED = {"skipped", "not checked"}


def _function_start(path: Path, name: str, class_name: str | None) -> int:
    tree = ast.parse(path.read_text())
    body: list[ast.stmt] = tree.body
    if class_name:
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == class_name:
                body = node.body
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node.lineno
    return 1


def _mutated_line(path: Path, mutant: str, diff: str) -> int:
    """The line in the source file of the first line the mutant changes."""
    name, class_name = orig_function_and_class_names_from_key(mutant)
    lines = path.read_text().splitlines()
    start = _function_start(path, name, class_name)
    removed = [line[1:].strip() for line in diff.splitlines() if line.startswith("-")][1:]
    if removed:
        for number in range(start - 1, len(lines)):
            if lines[number].strip() == removed[0]:
                return number + 1
    return start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--survivors", action="store_true", help="print each survivor's diff")
    args = parser.parse_args()

    rows = []
    survivors: list[tuple[Path, str]] = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        if not data.exit_code_by_key:
            continue
        counts: Counter[str] = Counter()
        for mutant, exit_code in data.exit_code_by_key.items():
            status = status_by_exit_code[exit_code]
            counts[status] += 1
            if status not in KILLED and status not in NOT_COUNTED:
                survivors.append((path, mutant))
        rows.append((str(path), counts))
    if not rows:
        print("No mutation results under mutants/: run `make mutate` first.")
        return 1

    header = ("module", "mutants", "killed", "survived", "no tests", "score")
    print("\n{:<40} {:>7} {:>6} {:>8} {:>8} {:>6}".format(*header))
    total: Counter[str] = Counter()
    for module, counts in sorted(rows):
        total.update(counts)
        print(_row(module, counts))
    print(_row("all money modules", total))

    unchecked = total["not checked"]
    if unchecked:
        print(f"\n{unchecked} mutants were not checked (the run was interrupted).")
    if survivors:
        print(f"\n{len(survivors)} mutants not killed (`mutmut show <name>` prints one):")
        for path, mutant in sorted(survivors):
            diff = get_diff_for_mutant(mutant, path=path)
            print(f"  {path}:{_mutated_line(path, mutant, diff)}  {mutant}")
            if args.survivors:
                print("\n".join("      " + line for line in diff.splitlines()[2:]))
    return 0


def _row(module: str, counts: Counter[str]) -> str:
    counted = sum(n for status, n in counts.items() if status not in NOT_COUNTED)
    killed = sum(counts[status] for status in KILLED)
    others = counted - killed - counts["survived"] - counts["no tests"]
    score = f"{100 * killed / counted:5.1f}%" if counted else "    -"
    extra = f"  ({others} suspicious/segfault)" if others else ""
    return (
        f"{module:<40} {counted:>7} {killed:>6} {counts['survived']:>8} "
        f"{counts['no tests']:>8} {score:>6}{extra}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
