"""bea — symbolic backward error analysis of optimizers.

Give an update rule; get, order by order in the learning rate ``h``, the modified flow
the iterates follow, and the modified loss where one exists.
"""

from ._version import __version__ as __version__
from .coordinatewise import dot, exp, log, norm, sqrt, tanh
from .custom import load_rule, rule_from_function
from .rule import Derivation, Family, Rule
from .derive import derive
from .equivalent import equivalent_step
from .estimate import TooMuchWork
from .atoms import Atom, RuleError
from .bseries.tracing import fixed_point
from .bseries.trees import Tree, parse, tree

__all__ = [
    "Atom", "Derivation", "Family", "Rule", "RuleError", "TooMuchWork", "Tree",
    "derive", "dot", "equivalent_step", "exp", "fixed_point", "load_rule", "log", "norm", "parse", "rule_from_function",
    "sqrt", "tanh", "tree",
]
