"""``--sampling iid`` on the command line: which options apply, and the typed request.

sgd's options are declared once in :data:`bea.schemes.SCHEMES`. ``--sampling epoch`` (the
default) is the epoch rule and takes ``--batches``/``--shuffle``; ``--sampling iid`` is the
stochastic modified equation (:mod:`bea.stochastic`) and takes ``--batch-size``,
``--examples``, ``--without-replacement`` and ``--order 1|2``. An option of the other
sampling, or of a command that does not apply, is refused with one line (exit 2).
:mod:`bea.stochastic` is imported only once i.i.d. sampling is asked for, so every other
derivation starts without it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bea.schemes import IID_OPTIONS, SCHEMES, parse_options

from ._common import _declarations, fail, whole_number

__all__ = ["IidRequest", "iid_request", "iid_sme"]

EPOCH_OPTIONS = ("batches", "shuffle")


@dataclass(frozen=True)
class IidRequest:
    order: int
    batch: object
    examples: object
    replace: bool

    def sampling(self, batch=None, examples=None) -> dict:
        """``{batch, examples, replace}`` for reports (numbers where given)."""
        plain = lambda x: int(x) if getattr(x, "is_Integer", False) else str(x)  # noqa: E731
        return {"batch": batch if batch is not None else plain(self.batch),
                "examples": examples if examples is not None else plain(self.examples),
                "replace": self.replace}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _given(value) -> bool:
    return value is not None and value is not False and value != ()


def iid_request(options: dict, refused: dict | None = None) -> IidRequest | None:
    """For ``--scheme sgd --sampling iid``: the typed request, its options popped from
    ``options``; otherwise ``None`` (after refusing i.i.d.-only options with epoch
    sampling). ``refused``: flag → value of the command's own options that do not apply
    to i.i.d. sampling."""
    if options.get("scheme") != "sgd":
        return None
    sampling = SCHEMES["sgd"].options["sampling"].parse(options.get("sampling"))
    if sampling == "epoch":
        stray = [k for k in IID_OPTIONS if _given(options.get(k))]
        if stray:
            fail(f"{_flag(stray[0])} applies to --sampling iid only (epoch sampling takes --batches, --shuffle)")
        return None
    from bea.stochastic import WEAK_ORDERS

    stray = [_flag(k) for k in EPOCH_OPTIONS if _given(options.get(k))]
    refused = {"--rule": options.get("rule"), **(refused or {})}
    stray += [flag for flag, value in refused.items() if _given(value)]
    if stray:
        fail(f"{stray[0]} does not apply to --sampling iid (it takes --batch-size, --examples, "
             "--without-replacement, --order 1|2)")
    order_text = options.pop("order", None)
    order = 2 if order_text is None else whole_number("--order", order_text)
    if order not in WEAK_ORDERS:
        fail(f"--sampling iid: the stochastic modified equation is derived to weak order 1 or 2, got --order {order}")
    limit = options.pop("max_terms", None)
    if limit is not None:  # the SME is small: a limit never binds, but a malformed one is refused
        whole_number("--max-terms", limit)
    for key in ("scheme", "rule"):
        options.pop(key, None)
    typed = parse_options("sgd", **{k: options.pop(k) for k in _declarations() if k in options})
    return IidRequest(order, typed["batch_size"], typed["examples"], not typed["without_replacement"])


def iid_sme(request: IidRequest):
    """The :class:`bea.stochastic.SME` of ``request`` (bad sampling options: one line, exit 2)."""
    from bea.stochastic import SamplingError, sme

    try:
        return sme(request.order, request.batch, request.examples, request.replace)
    except SamplingError as exc:
        fail(f"--sampling iid: {exc}")
