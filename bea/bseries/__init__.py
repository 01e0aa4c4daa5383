"""B-series: backward error analysis of affine rules over labelled rooted trees.

The engine of gd, sgd, games, Runge–Kutta, momentum and affine user rules, as one
algebra of the pipeline (:class:`.algebra.BSeries`). The steps, one module each, with the
same names as in :mod:`bea.coordinatewise`:

==================  ==========================================================
:mod:`.trees`       labelled rooted trees: notation, grafting, symmetry
:mod:`.series`      term dicts: Taylor shift, Lie derivative, the logarithm's operations
:mod:`.tracing`     a rule run on traced values (the update map's series)
:mod:`.slaving`     auxiliary state slaved to the parameters
:mod:`.pipeline`    one cycle of a rule, reshuffling averaged
:mod:`.modifying`   modifying fields, order by order
:mod:`.losses`      the split into -∇ of a loss and a remainder
:mod:`.estimate`    the size of the work
:mod:`.plan`        shared subexpressions of elementary differentials (code, checks)
:mod:`.evaluate`    elementary differentials on numbers, with JAX
:mod:`.algebra`     the plug-in object the pipeline asks
==================  ==========================================================
"""
