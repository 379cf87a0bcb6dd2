"""The names and one rule the server, the kernels and the browser share: where the API lives, how
a kernel proves who it is, what the pushed changes and the widget are called.

Pure constants and the standard library only, so the kernel side can import it without pulling in
anything of the server (``src/version.ts`` and ``src/api.ts`` hold the browser's copies).
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import ROUND_HALF_UP, Decimal

#: Every route of the monitor lives under ``{base_url}`` + this prefix.
API_PREFIX = "/session-monitor/api"
#: Where kernels report their sessions, relative to the server's base URL.
REGISTRATION_PATH = "session-monitor/api/kernel-registrations"
#: Where a kernel's magics ask the server (budgets, close-all, the monitor's views), signed the
#: same way: ``{"kernel_id", "op", ...}``.
KERNEL_REQUESTS_PATH = "session-monitor/api/kernel-requests"

#: The server's URL and its per-start secret, in the environment kernels inherit.
ENV_URL = "JUPYTER_SESSION_MONITOR_URL"
ENV_SECRET = "JUPYTER_SESSION_MONITOR_SECRET"  # noqa: S105 (a variable's name, not a secret)
#: The header carrying that secret (browsers never send it: no XSRF check applies).
SECRET_HEADER = "X-Session-Monitor-Secret"  # noqa: S105
#: HMAC-SHA256 of the request body with the kernel's own connection key: only that kernel (and
#: its server) knows the key, so another process of the server that has the secret (a terminal)
#: cannot speak for a kernel.
PROOF_HEADER = "X-Session-Monitor-Kernel-Proof"

#: The jupyter_events schema of pushed session changes.
SESSION_CHANGES_ID = "https://events.jupyter.org/jupyter_session_monitor/session_changes/v1"

#: The widget module the kernel's ``SessionWidget`` names, and the output mime type drawn from a
#: session id alone.
WIDGET_MODULE = "jupyter-session-monitor"
SESSION_MIME_TYPE = "application/vnd.jupyter-session-monitor.session+json"


def proof(key: bytes, body: bytes) -> str:
    """What a kernel sends in ``PROOF_HEADER`` for ``body``, and what the server expects."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()


#: Currencies written with other than two decimals, as browsers' locale data (CLDR) has them, so
#: that the kernel's and the receipts' figures read like the page's (``src/money.ts`` asks the
#: browser's ``Intl`` for the same). Any other label ("USD", "credits") has two.
_NO_DECIMALS = (
    "AFN ALL BIF CLP COP DJF GNF HUF IDR IQD IRR ISK JPY KMF KPW KRW LAK LBP MGA MMK PKR PYG RWF "
    "SLL SOS SYP UGX VND VUV XAF XOF XPF YER"
)
_THREE_DECIMALS = "BHD JOD KWD LYD OMR TND"
_CURRENCY_DIGITS = {
    **dict.fromkeys(_NO_DECIMALS.split(), 0),
    **dict.fromkeys(_THREE_DECIMALS.split(), 3),
}


def currency_digits(currency: str | None) -> int:
    """The decimals money in ``currency`` is written with: 2 for USD, 0 for JPY, 3 for KWD."""
    return _CURRENCY_DIGITS.get((currency or "").upper(), 2)


def _rounded(amount: float, digits: int) -> Decimal:
    """``amount`` to ``digits`` decimals as the browser's ``Intl`` rounds: from its shortest
    decimal form (``repr``), halves away from zero (an f-string rounds halves to even, and from
    the binary value: 0.125 gave 0.12 here and 0.13 on the page)."""
    return Decimal(repr(float(amount))).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)


def money_text(amount: float, currency: str | None) -> str:
    """``1850, "USD"`` -> ``1,850.00 USD``, in the currency's decimals; ``< 0.01 USD`` for an
    amount above zero too small to show; the number alone without a currency label."""
    digits = currency_digits(currency)
    smallest = 10.0**-digits
    if 0 < amount < smallest / 2:
        text = f"< {_rounded(smallest, digits):,.{digits}f}"
    else:
        shown = _rounded(0.0 if abs(amount) < smallest / 2 else amount, digits)
        text = f"{shown:,.{digits}f}"
    return f"{text} {currency}" if currency else text


def rate_text(rate: float, currency: str | None) -> str:
    """A price per billed second as the page writes it: the currency's decimals at least, up to
    six (``1.60``, ``0.0267``), never in exponent form."""
    digits = currency_digits(currency)
    text = f"{_rounded(rate, max(digits, 6)):f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    decimals = decimals.ljust(digits, "0")
    return f"{int(whole):,}" + (f".{decimals}" if decimals else "")
