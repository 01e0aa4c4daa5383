"""Stochastic modified equations: the noise of SGD (Li, Tai & E, ICML 2017; JMLR 2019).

``moments`` (exact minibatch moments), ``sme`` (drift and diffusion of i.i.d. SGD to weak
order 1 and 2), ``reshuffle`` (covariance of the reshuffled epoch map over orderings),
``outer`` (the printed grammar of covariances); JAX: ``jaxsde`` (matrix-free drift,
diffusion, diffrax simulator), ``weak`` (weak-order checks), ``paths`` (SGD vs SME runs),
``problem`` (the built-in per-example problem of the CLI), ``report`` (their tables and plots).
The symbolic modules import no JAX; an :class:`SME` prints through :mod:`bea.render`
(its sections in :mod:`bea.stochastic.sections`, registered with the printers on
import: the printers themselves never import this package).
"""

from .moments import Sampling, SamplingError, batch_moment, minibatch_covariance
from .reshuffle import BracketProduct, epoch_covariance
from .sme import SME, WEAK_ORDERS, sme
from . import sections  # noqa: F401  (registers the printed sections of SMEs and epoch covariances)

__all__ = ["Sampling", "SamplingError", "batch_moment", "minibatch_covariance",
           "BracketProduct", "epoch_covariance", "SME", "WEAK_ORDERS", "sme"]
