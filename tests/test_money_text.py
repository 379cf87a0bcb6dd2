"""Money as the kernel and the receipts write it: the currency's own decimals, as the page writes
it (``src/money.ts``, through the browser's ``Intl``), so "0.738 USD" never stands beside
"10.08 USD" and a figure reads the same on every surface (#26 item 7)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jupyter_session_monitor.domain.receipts import receipt, receipt_text
from jupyter_session_monitor.protocol import currency_digits, money_text, rate_text

#: The cases src/__tests__/money.spec.ts checks the page against too.
CASES = json.loads((Path(__file__).parent / "cases" / "money.json").read_text())


@pytest.mark.parametrize("case", CASES["amounts"], ids=lambda c: c["text"])
def test_an_amount_is_written_as_the_page_writes_it(case: dict[str, Any]) -> None:
    # #26 item 7 ("0.738 USD" beside "10.08 USD"); halves rounded as Intl rounds them.
    assert money_text(case["amount"], case["currency"]) == case["text"]


@pytest.mark.parametrize("case", CASES["rates"], ids=lambda c: c["text"])
def test_a_price_per_second_is_written_as_the_page_writes_it(case: dict[str, Any]) -> None:
    assert rate_text(case["rate"], case["currency"]) == case["text"]  # never "1e-05"


def test_the_decimals_follow_the_currency() -> None:
    assert currency_digits("jpy") == 0
    assert currency_digits("KWD") == 3
    assert currency_digits("credits") == 2


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_the_table_agrees_with_the_browsers_locale_data() -> None:
    """Node's ``Intl`` carries the same locale data (CLDR) as the browser's."""
    script = (
        "const out = {};"
        "for (const c of Intl.supportedValuesOf('currency')) {"
        " out[c] = new Intl.NumberFormat('en', {style: 'currency', currency: c})"
        ".resolvedOptions().maximumFractionDigits; }"
        "console.log(JSON.stringify(out));"
    )
    node = shutil.which("node")
    assert node is not None
    digits = json.loads(
        subprocess.run([node, "-e", script], capture_output=True, check=True).stdout
    )
    assert len(digits) > 100
    differ = {
        code: (n, currency_digits(code)) for code, n in digits.items() if n != currency_digits(code)
    }
    assert differ == {}


def test_a_receipt_writes_its_cost_in_the_currencys_decimals() -> None:
    view = {
        "id": "s1",
        "state": "closed",
        "jobs_summary": {"DONE": 1},
        "billing": {
            "billed_seconds": 1.476,
            "cost": 0.738,
            "rate_per_second": 0.5,
            "currency": "USD",
        },
    }
    view["jobs"] = [{"id": "j1", "status": "DONE", "tags": ["opt"], "usage_seconds": 0.5}]
    text = receipt_text(receipt(view))
    assert "0.74 USD at 0.50 per billed second" in text
    assert "opt: 1 job, 0.5 s of quantum time" in text  # not "1 jobs" (#26 item 7)
