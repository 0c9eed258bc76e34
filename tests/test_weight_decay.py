"""Weight decay (issue 15): an L2 penalty, on by default for small CSV tables only, the same in every engine."""

import pytest
import torch

from mlpfit.api import build_config
from mlpfit.errors import UsageError
from mlpfit.fitting.prepare import load_dataset, prepare
from mlpfit.engines.torch.optim import make_optimizer
from mlpfit.engines.torch.stacked_optim import StackedOptimizer


@pytest.mark.parametrize("name, l2, reference", [
    ("adam", 1e-3, lambda p, lr: torch.optim.Adam(p, lr=lr, weight_decay=1e-3)),
    ("sgd", 1e-2, lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=1e-2)),
    ("adamw", 1e-2, lambda p, lr: torch.optim.AdamW(p, lr=lr, weight_decay=1e-2)),
])
def test_stacked_l2_matches_torch(name, l2, reference):
    torch.manual_seed(0)
    lrs = [1e-2, 3e-3]
    stacked = torch.randn(2, 4, 3, requires_grad=True)
    singles = [stacked[k].detach().clone().requires_grad_() for k in range(2)]
    optimizer = StackedOptimizer(name, [stacked], lrs, l2=l2)
    references = [reference([p], lr) for p, lr in zip(singles, lrs)]
    for _ in range(5):
        grad = torch.randn(2, 4, 3)
        stacked.grad = grad.clone()
        optimizer.step(1.0, torch.ones(2))
        for p, opt in zip(singles, references):
            p.grad = grad[references.index(opt)].clone()
            opt.step()
    for k in range(2):
        torch.testing.assert_close(stacked[k].detach(), singles[k].detach(), rtol=1e-5, atol=1e-6)


def test_make_optimizer_sets_the_penalty_and_keeps_adamw_default():
    p = [torch.nn.Parameter(torch.ones(2))]
    assert make_optimizer("adam", p, 0.01, 1e-3).param_groups[0]["weight_decay"] == 1e-3
    assert make_optimizer("adam", p, 0.01).param_groups[0]["weight_decay"] == 0
    assert make_optimizer("adamw", p, 0.01).param_groups[0]["weight_decay"] == 1e-4


def resolved(target, **options):
    config = build_config(target, options)
    prepare(config, load_dataset(config))
    return config.train


def test_default_weight_decay_only_for_small_tables(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n" + "".join(f"{i % 7},{i % 5},{(i % 7) * 0.5 + (i % 3)}\n" for i in range(200)))
    assert resolved(str(path)).weight_decay == 1e-3
    assert resolved(str(path), optimizer="adamw").weight_decay == 0.0  # adamw's own decoupled decay
    assert resolved(str(path), weight_decay=0.0).weight_decay == 0.0  # the user's choice stands
    assert resolved("x**2 + y**2", samples=500).weight_decay == 0.0  # smooth functions: none


def test_weight_decay_out_of_range_is_refused():
    with pytest.raises(UsageError, match="weight.decay"):
        resolved("x**2", samples=100, weight_decay=-1.0)
