"""Adaptive and normalized optimizers as coordinate-wise rules (schemes adam, adamw, rmsprop, normalized).

Conventions (Cattaneo, Klusowski & Shigida, ICML 2024), with optax's
option names ``b1 = β``, ``b2 = ρ``:

    m⁺ = β m + (1 − β) g,   v⁺ = ρ v + (1 − ρ) g⊙g,   θ⁺ = θ − h m⁺ / √(v⁺ + ε),

``g = ∇L = −f``. **No bias correction**: the rule after the transient, where the factors
``1/(1 − β^n)``, ``1/(1 − ρ^n)`` are 1 up to exponentially small terms (including them
would make the map depend on the step count ``n``, i.e. a non-autonomous flow). **ε sits
inside the square root.** ``m`` and ``v`` are slaved to θ on their invariant manifold.
RMSProp is ``β = 0`` (no first moment). AdamW adds decoupled weight decay
``θ⁺ = θ − h (m⁺/√(v⁺ + ε) + λ θ)``: the parameters ``θ`` are themselves a vector atom
(``D θ[u] = u``), so ``λθ`` needs no extra field. Normalized GD: ``θ⁺ = θ − h g/‖g‖``.
"""

from ..coordinatewise import norm, sqrt
from ..rule import Rule
from ..atoms import Atom


def adam(theta, m, v, h, f, b1, b2, eps):
    g = -f(theta)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return theta - h * m / sqrt(v + eps), m, v


def adamw(theta, m, v, h, f, b1, b2, eps, weight_decay):
    g = -f(theta)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return theta - h * (m / sqrt(v + eps) + weight_decay * theta), m, v


def rmsprop(theta, v, h, f, b2, eps):
    g = -f(theta)
    v = b2 * v + (1 - b2) * g * g
    return theta - h * g / sqrt(v + eps), v


def normalized(theta, h, f):
    g = -f(theta)
    return theta - h * g / norm(g)


_GRADIENT = (Atom("f", "L"),)


def build_adam(order: int, b1, b2, eps) -> Rule:
    params = {"b1": b1, "b2": b2, "eps": eps}
    return Rule(adam, _GRADIENT, name="adam", n_aux=2, params=params, algebra="coordinatewise",
                options={k: str(v) for k, v in params.items()},
                description="Adam without bias correction, ε inside the root")


def build_adamw(order: int, b1, b2, eps, weight_decay) -> Rule:
    params = {"b1": b1, "b2": b2, "eps": eps, "weight_decay": weight_decay}
    return Rule(adamw, _GRADIENT, name="adamw", n_aux=2, params=params, algebra="coordinatewise",
                options={k: str(v) for k, v in params.items()},
                description="AdamW (decoupled weight decay), no bias correction")


def build_rmsprop(order: int, b2, eps) -> Rule:
    params = {"b2": b2, "eps": eps}
    return Rule(rmsprop, _GRADIENT, name="rmsprop", n_aux=1, params=params,
                algebra="coordinatewise", options={k: str(v) for k, v in params.items()},
                description="RMSProp, ε inside the root")


def build_normalized(order: int) -> Rule:
    return Rule(normalized, _GRADIENT, name="normalized", algebra="coordinatewise",
                description="normalized gradient descent θ ← θ − h g/‖g‖")
