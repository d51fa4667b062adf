"""Inline suppression comments.

``# pipeline-ci: disable=A07,unknown-key`` silences those rules on its own line, or on the next
line when the comment stands alone. ``# pipeline-ci: disable-file=A07`` silences them in the
whole file. ``disable=all`` silences every rule.
"""

from __future__ import annotations

from .lazyre import lazy_re

COMMENT = lazy_re(r"#\s*pipeline-ci:\s*(disable|disable-file)=([\w\-, ]+)")


class Suppressions:
    """The inline ``# pipeline-ci: disable=...`` comments of one file: by line, and for the whole file."""

    # a plain class, not a dataclass: creating dataclasses is a tenth of a cold lint (see pipeline_ci.records)
    def __init__(self) -> None:
        self.by_line: dict[int, set[str]] = {}
        self.whole_file: set[str] = set()

    def covers(self, line: int, rule_id: str, rule_name: str) -> bool:
        names = self.whole_file | self.by_line.get(line, set())
        return bool(names & {rule_id, rule_name, "all"})


def parse(lines: list[str]) -> Suppressions:
    out = Suppressions()
    for number, text in enumerate(lines, start=1):
        for kind, names in COMMENT.findall(text):
            rules = {n.strip() for n in names.split(",") if n.strip()}
            if kind == "disable-file":
                out.whole_file |= rules
                continue
            target = number + 1 if text.lstrip().startswith("#") else number
            out.by_line.setdefault(target, set()).update(rules)
    return out
