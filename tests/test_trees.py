"""Labelled rooted trees: canonical form, notation, grafting, counting."""

import pytest

from bea.bseries.trees import InvalidTreeError, graft, parse, symmetry, tree, trees_of_order


def test_children_are_unordered():
    a, b = tree("f"), tree("f", [tree("f")])
    assert tree("g", [a, b]) == tree("g", [b, a])
    assert str(tree("g", [b, a])) == "g[f,f[f]]"


def test_parse_round_trip():
    for text in ["f", "f[f]", "f[f,f[f]]", "f1[f2,f1[f3]]", "fx[fy[fx,fx]]"]:
        assert str(parse(text)) == text
    assert parse("f[f[f],f]") == parse("f[f,f[f]]")


@pytest.mark.parametrize("bad", ["", "f[", "f[f", "f]", "[f]", "f[f,]", "f[f]g"])
def test_parse_rejects_malformed(bad):
    with pytest.raises(InvalidTreeError):
        parse(bad)


def test_tree_counts_match_oeis_a000081():
    assert [len(trees_of_order(n)) for n in range(1, 11)] == [1, 1, 2, 4, 9, 20, 48, 115, 286, 719]
    assert sum(len(trees_of_order(n)) for n in range(1, 11)) == 1205


def test_labelled_counts():
    # two labels: order 2 has 4 trees, order 3 has 2*2*2 chains + 2*3 cherries = 14
    assert len(trees_of_order(2, ("a", "b"))) == 4
    assert len(trees_of_order(3, ("a", "b"))) == 14


def test_graft_is_the_lie_derivative_leibniz_rule():
    f = tree("f")
    ff = parse("f[f]")
    # (f'f)' f = f''(f, f) + f'f'f
    assert dict(graft(ff, f)) == {parse("f[f,f]"): 1, parse("f[f[f]]"): 1}
    # (f''(f,f))' f = f'''(f,f,f) + 2 f''(f, f'f)
    assert dict(graft(parse("f[f,f]"), f)) == {parse("f[f,f,f]"): 1, parse("f[f,f[f]]"): 2}


def test_symmetry_factor():
    assert symmetry(parse("f[f,f]")) == 2
    assert symmetry(parse("f[f,f,f]")) == 6
    assert symmetry(parse("f[f[f],f[f]]")) == 2
    assert symmetry(parse("a[b,c]")) == 1
