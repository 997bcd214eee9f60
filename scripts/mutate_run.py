"""`mutmut run` with each mutated function's tests narrowed, for `make mutate`.

mutmut runs, for every mutant, each selected test that reached the mutated function. The
order and payment services are reached by nearly every test of four apps, so a mutant
that survives would cost the whole suite. After mutmut has measured which tests reach
which function, this keeps, per function, the tests of the app that owns it (an app
whose services are driven by another app's tests lists that app too) — first those in
files named after the function's module — fastest first and within MUTATE_TEST_BUDGET
seconds of measured test time (see `narrow`); with `-x` a mutant usually dies on its
first tests. Arguments are those of `mutmut run`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from mutmut import __main__ as mutmut_main
from mutmut.state import state

# module prefix -> test directories whose tests may kill its mutants, in preference order
OWN_TESTS = {
    "apps.inventory.": ("apps/inventory/tests/", "apps/orders/tests/"),
    "apps.orders.": ("apps/orders/tests/", "apps/shipping/tests/"),
    "apps.payments.": ("apps/payments/tests/",),
    "apps.payouts.": ("apps/payouts/tests/",),
}
BUDGET = float(os.environ.get("MUTATE_TEST_BUDGET", "1.5"))


def _related(function: str, test: str) -> bool:
    """Whether the test's file is named after the function's module (``refunds`` →
    ``test_refunds.py``, ``test_refund_keys.py``)."""
    module = function.rpartition(".")[0].rpartition(".")[2]
    stem = module.removesuffix("s") or module
    return stem in test.partition("::")[0].rpartition("/")[2]


def narrow(function: str, tests: set[str], duration: dict[str, float]) -> list[str]:
    """The tests to run against the mutants of `function`: the owning app's tests whose
    file is named after the function's module, fastest first, within twice the budget;
    then the app's other tests, fastest first, while the total stays within the budget."""
    owners = next((dirs for prefix, dirs in OWN_TESTS.items() if function.startswith(prefix)), ())
    own = [test for test in tests if test.startswith(owners)] or list(tests)
    own.sort(key=lambda test: (duration.get(test, 0.0), test))
    related = [test for test in own if _related(function, test)]
    chosen: list[str] = []
    spent = 0.0
    for group, limit in ((related, 2 * BUDGET), ([t for t in own if t not in related], BUDGET)):
        for test in group:
            if chosen and spent + duration.get(test, 0.0) > limit:
                break
            chosen.append(test)
            spent += duration.get(test, 0.0)
    return chosen


def _narrowed(original: Callable[..., None]) -> Callable[..., None]:
    def collect_or_load_stats(runner: Any, **kwargs: Any) -> None:
        original(runner, **kwargs)
        tests_by_function = state().tests_by_mangled_function_name
        duration = state().duration_by_test
        for function, tests in list(tests_by_function.items()):
            # a list keeps the order; mutmut only iterates, sums and lists it
            tests_by_function[function] = narrow(function, set(tests), duration)  # type: ignore[assignment]

    return collect_or_load_stats


if __name__ == "__main__":
    mutmut_main.collect_or_load_stats = _narrowed(mutmut_main.collect_or_load_stats)
    mutmut_main.cli(["run", *sys.argv[1:]])
