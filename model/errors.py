"""The one exception family of jjj-talent."""


class JJJError(Exception):
    """Base of every error the simulator raises on purpose."""


class ScenarioError(JJJError, ValueError):
    """Bad input: a scenario, a data file or an argument. The message names the file, the key
    path, the value and what is allowed."""


class RunError(JJJError):
    """A run failed; carries the scenario name and seed so the run can be repeated."""

    def __init__(self, message: str, scenario: str, seed: int) -> None:
        super().__init__(f"{message} (scenario {scenario!r}, seed {seed})")
        self.scenario = scenario
        self.seed = seed
