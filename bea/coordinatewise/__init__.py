"""Coordinate-wise series: backward error analysis of adaptive optimizers.

Rules with elementwise products, roots, quotients and norms (Adam, RMSProp, normalized
steps) are not B-series. Their modified flows live in the algebra of
:mod:`~bea.coordinatewise.expressions` (elementary differentials with expression
arguments, elementwise functions, scalar sums), which offers what the one pipeline asks
of a series: linear combination, the directional derivative
(:mod:`~bea.coordinatewise.calculus`) and a canonical form; the pipeline computes in
the polynomial ring of :mod:`~bea.coordinatewise.ring` (python-flint) and hands the
canonical form to the printers. A rule opts in with
``Rule(..., algebra="coordinatewise")`` and uses :func:`sqrt`, :func:`exp`, :func:`log`,
:func:`tanh`, :func:`dot`, :func:`norm` from here, and :func:`opaque` for a smooth map
that mixes coordinates (Muon's orthogonalization, :mod:`~bea.coordinatewise.maps`).
"""

from .calculus import CoordinateSeries, derivative, parameter_derivative, shift, substitute, taylor
from .expressions import THETA, atom, canonical, differential, monomials, total
from .pipeline import trace_map
from .maps import matrix_shape, opaque
from .tracing import dot, exp, log, norm, sqrt, tanh

__all__ = [
    "CoordinateSeries", "THETA", "atom", "canonical", "derivative", "differential", "dot",
    "exp", "log", "matrix_shape", "monomials", "norm", "opaque", "parameter_derivative", "shift", "sqrt",
    "substitute",
    "tanh", "taylor", "total",
    "trace_map",
]
