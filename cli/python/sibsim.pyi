# Type stubs of the sibsim module (cli/python/sibsim_module.cpp); docs/python.md describes it.
import os
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import numpy
import numpy.typing

__version__: str

class Problem(NamedTuple):
    """One problem in an input: 1-based line and column (0 when unknown), dotted key path."""

    file: str
    line: int
    column: int
    path: str
    message: str

class ScenarioError(ValueError):
    """Every problem of a scenario, observed results or argument; str() is the CLI's text."""

    problems: list[Problem]

class Table:
    """A table as the CLI writes it to NAME.csv."""

    @property
    def name(self) -> str: ...
    @property
    def columns(self) -> list[str]: ...
    @property
    def rows(self) -> list[tuple[Any, ...]]: ...
    def column(self, name: str) -> list[Any]: ...
    def to_pandas(self) -> Any: ...
    def __len__(self) -> int: ...

class Result:
    """The outcome of Scenario.run()."""

    @property
    def trials(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def quantiles(self) -> str: ...
    @property
    def metrics(self) -> list[str]: ...
    @property
    def summary(self) -> dict[str, dict[str, float]]: ...
    @property
    def summary_table(self) -> Table: ...
    def values(self, metric: str) -> numpy.typing.NDArray[numpy.float64]: ...
    @property
    def parties(self) -> list[str]: ...
    @property
    def dates(self) -> list[str]: ...
    @property
    def cashflows(self) -> numpy.typing.NDArray[numpy.float64]: ...
    @property
    def cashflows_p5(self) -> numpy.typing.NDArray[numpy.float64]: ...
    @property
    def cashflows_p95(self) -> numpy.typing.NDArray[numpy.float64]: ...
    @property
    def cashflows_table(self) -> Table: ...
    def to_pandas(self) -> dict[str, Any]: ...

class Settlement:
    """The outcome of Scenario.settle()."""

    @property
    def metrics(self) -> dict[str, float | None]: ...
    @property
    def payments(self) -> Table: ...
    @property
    def cashflows_table(self) -> Table: ...
    @property
    def parties(self) -> list[str]: ...
    @property
    def dates(self) -> list[str]: ...
    @property
    def cashflows(self) -> numpy.typing.NDArray[numpy.float64]: ...
    @property
    def notes(self) -> list[str]: ...
    def to_pandas(self) -> dict[str, Any]: ...

class Scenario:
    """A loaded, checked scenario; made by sibsim.load()."""

    @property
    def file(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def trials(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def metrics(self) -> list[str]: ...
    def run(
        self,
        trials: int | None = None,
        seed: int | None = None,
        threads: int = 0,
        per_trial: bool = True,
        quantiles: str = "auto",
    ) -> Result: ...
    def settle(
        self,
        observed: str | os.PathLike[str] | None = None,
        participants: str | os.PathLike[str] | None = None,
        partial: bool = False,
    ) -> Settlement: ...

def load(path: str | os.PathLike[str], set: Mapping[str, Any] | None = None) -> Scenario: ...
def sweep(
    scenario: Scenario,
    vary: Mapping[str, Iterable[Any] | str],
    *,
    trials: int | None = None,
    seed: int | None = None,
    threads: int = 0,
    metrics: Sequence[str] | None = None,
) -> Table: ...
def compare(
    scenarios: Sequence[Scenario],
    *,
    trials: int | None = None,
    seed: int | None = None,
    threads: int = 0,
) -> Table: ...
