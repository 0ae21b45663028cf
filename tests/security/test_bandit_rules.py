"""ruff's bandit rules (S) over the product code: clean, or each exception justified where it is made.

A justification is text after the ``noqa`` code or a comment on the line just above it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# Findings of the rules pyproject ignores globally, each checked by hand: (file, rule) -> why it is safe.
JUSTIFIED = {
    ("mozaiks_core/auth/tokens.py", "S105"): "TOKEN_USE = 'execution' is a claim value, not a secret",
    ("mozaiks_core/auth/liveness.py", "S105"): "TOKEN_REVOKED = 'TOKEN_REVOKED' is an error code, not a secret",
    ("mozaiks_core/auth/client_tokens.py", "S105"): "TOKEN_USE = 'client' is a claim value, not a secret",
    ("mozaiks_core/runtime/bundles/registry.py", "S101"): "narrows Optional for the type checker",
    ("mozaiks_core/supervisor.py", "S101"): "narrows Optional for the type checker",
}
NOQA = re.compile(r"#\s*noqa:\s*(S\d{3})(?P<reason>.*)$")


def test_every_bandit_finding_in_the_product_code_is_a_known_justified_one() -> None:
    result = subprocess.run(  # every S rule, ignoring pyproject's global ignores (noqa comments still count)
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "S", "--line-length", "120",
         "--output-format", "json", "mozaiks_core", "manage.py"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False)
    findings = {(str(Path(item["filename"]).relative_to(REPO_ROOT)), item["code"])
                for item in json.loads(result.stdout)}
    unexplained = sorted(findings - set(JUSTIFIED))
    assert not unexplained, f"new bandit findings: fix them or justify them in place: {unexplained}"


def test_every_bandit_noqa_in_the_product_code_says_why() -> None:
    bare = []
    for path in sorted((REPO_ROOT / "mozaiks_core").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            match = NOQA.search(line)
            reason_above = number > 1 and lines[number - 2].strip().startswith("#")
            if match and len(match["reason"].strip(" -()")) < 8 and not reason_above:
                bare.append(f"{path.relative_to(REPO_ROOT)}:{number}")
    assert not bare, f"'# noqa: S...' without a reason: {bare}"
