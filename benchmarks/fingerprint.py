"""Bit fingerprints of the public API: same ``rng`` ⇒ same bits, across a refactor.

Runs a fixed set of seeded calls (samplers, trainers, estimators, inference, drop-ins) and
prints one SHA-256 per call of every array it returns. Run it on two commits and compare::

    python benchmarks/fingerprint.py --out before.json          # on the old commit
    python benchmarks/fingerprint.py --compare before.json      # on the new one

``--compare`` exits 1 and names the calls whose bits changed. A call that raises is recorded
as ``error: <type>`` so that a missing name shows up as a difference, not a crash.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import warnings

import numpy as np

CASES = {}


def case(function):
    """Register ``function`` (no arguments, returns arrays or nested tuples/dicts of them)."""
    CASES[function.__name__] = function
    return function


def _digest(value, hasher) -> None:
    # Walk nested containers in a fixed order; hash dtype, shape and raw bytes of every array.
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            hasher.update(repr(key).encode())
            _digest(value[key], hasher)
    elif isinstance(value, (list, tuple)):
        hasher.update(f"seq{len(value)}".encode())
        for item in value:
            _digest(item, hasher)
    elif hasattr(value, "states") and hasattr(value, "energies"):  # a SampleSet: its draws, not its repr
        _digest((value.states, value.energies), hasher)
    elif hasattr(value, "to_numpy") and hasattr(value, "columns"):
        hasher.update(repr(list(value.columns)).encode())
        _digest(value.to_numpy(), hasher)
    else:
        array = np.ascontiguousarray(np.asarray(value))
        if array.dtype == object:
            hasher.update(repr(array.tolist()).encode())
        else:
            hasher.update(f"{array.dtype.str}{array.shape}".encode())
            hasher.update(array.tobytes())


def _bm(n=8, seed=0, sparse=False):
    from pgm_energy import BoltzmannMachine

    generator = np.random.default_rng(seed)
    weights = generator.normal(0, 0.8, (n, n))
    weights = np.triu(weights, 1)
    weights = weights + weights.T
    model = BoltzmannMachine(weights, generator.normal(0, 0.5, n), visible=np.arange(n) < n // 2)
    return model


def _rbm(n_visible=12, n_hidden=6, seed=1):
    from pgm_energy import RestrictedBoltzmannMachine

    generator = np.random.default_rng(seed)
    return RestrictedBoltzmannMachine(
        generator.normal(0, 0.7, (n_visible, n_hidden)), generator.normal(0, 0.3, n_visible), generator.normal(0, 0.3, n_hidden)
    )


def _lattice(side=16):
    import networkx as nx

    from pgm_energy import BoltzmannMachine

    graph = nx.convert_node_labels_to_integers(nx.grid_2d_graph(side, side))
    generator = np.random.default_rng(5)
    for u, v in graph.edges:
        graph.edges[u, v]["weight"] = float(generator.normal(0, 1))
    return BoltzmannMachine.from_networkx(graph, sparse=True)


def _digits():
    from pgm_energy import datasets

    return datasets.load_digits_binary()[0][:200] if hasattr(datasets, "load_digits_binary") else _toy_data()


def _toy_data(n_rows=120, n_visible=12, seed=3):
    generator = np.random.default_rng(seed)
    prototypes = generator.random((3, n_visible)) < 0.5
    rows = prototypes[generator.integers(0, 3, n_rows)]
    noise = generator.random((n_rows, n_visible)) < 0.1
    return (rows ^ noise).astype(np.float64)


def _samples(sample_set):
    return sample_set.states, sample_set.energies


@case
def gibbs_bm_sequential():
    from pgm_energy.samplers import GibbsSampler

    return _samples(GibbsSampler(burn_in=20).sample(_bm(), 50, n_chains=3, rng=7))


@case
def gibbs_bm_chromatic_evidence():
    from pgm_energy.samplers import GibbsSampler

    model = _bm(10)
    return _samples(GibbsSampler(burn_in=10, scan="chromatic").sample(model, 40, n_chains=2, evidence={model.names[0]: 1}, rng=8))


@case
def gibbs_lattice_keep_last():
    from pgm_energy.samplers import GibbsSampler

    return _samples(GibbsSampler(burn_in=0).sample(_lattice(), 30, n_chains=4, keep="last", rng=9))


@case
def gibbs_lattice_chains():
    from pgm_energy.samplers import GibbsSampler

    out = []
    for chains in (1, 2, 3, 4, 5, 8):
        out.append(_samples(GibbsSampler(burn_in=3).sample(_lattice(8), 6, n_chains=chains, rng=chains)))
    return out


@case
def gibbs_lattice_scans():
    from pgm_energy.samplers import GibbsSampler

    out = []
    for scan in ("sequential", "random", "chromatic"):
        for chains in (1, 2, 4, 7):
            sampler = GibbsSampler(burn_in=2, thin=2, scan=scan)
            out.append(_samples(sampler.sample(_lattice(12), 5, n_chains=chains, rng=40 + chains)))
            out.append(_samples(sampler.sample(_bm(9), 5, n_chains=chains, evidence={"v1": 1}, rng=50 + chains)))
    return out


@case
def exact_inference_answers():
    from pgm_energy.inference import ExactInference

    bm = _bm(9)
    engine = ExactInference(bm)
    joint = engine.query([bm.names[0], bm.names[3]], evidence={bm.names[1]: 0})
    return np.asarray(joint.values), engine.map_query(evidence={bm.names[1]: 0})


@case
def exact_map_query_subset():
    # issue 12 changes this on purpose: map_query(variables) becomes pgmpy's marginal MAP
    from pgm_energy.inference import ExactInference

    bm = _bm(9)
    return ExactInference(bm).map_query([bm.names[2], bm.names[5]])


@case
def gibbs_rbm_block():
    from pgm_energy.samplers import GibbsSampler

    return _samples(GibbsSampler(burn_in=5, thin=2).sample(_rbm(), 30, n_chains=3, rng=10))


@case
def gibbs_rbm_block_float32():
    from pgm_energy.samplers import GibbsSampler

    rbm = _rbm(20, 10)
    return _samples(GibbsSampler(burn_in=5, dtype="float32").sample(rbm, 30, n_chains=5, evidence={rbm.names[0]: 1}, rng=11))


@case
def annealing_bm():
    from pgm_energy.samplers import SimulatedAnnealingSampler

    return _samples(SimulatedAnnealingSampler(n_sweeps=50).sample(_bm(12), 6, rng=12))


@case
def annealing_rbm_evidence():
    from pgm_energy.samplers import SimulatedAnnealingSampler

    rbm = _rbm()
    return _samples(SimulatedAnnealingSampler(n_sweeps=40, scan="random").sample(rbm, 4, evidence={rbm.names[1]: 0}, rng=13))


@case
def annealing_metropolis_lattice():
    from pgm_energy.samplers import SimulatedAnnealingSampler

    return _samples(SimulatedAnnealingSampler(n_sweeps=30, acceptance="metropolis").sample(_lattice(), 3, rng=14))


@case
def tempering_bm():
    from pgm_energy.samplers import ParallelTemperingSampler

    return _samples(ParallelTemperingSampler([1.0, 1.5, 2.5], burn_in=10).sample(_bm(), 30, n_chains=2, rng=15))


@case
def tempering_rbm():
    from pgm_energy.samplers import ParallelTemperingSampler

    return _samples(ParallelTemperingSampler([1.0, 2.0], burn_in=5).sample(_rbm(), 20, n_chains=2, rng=16))


@case
def exact_estimators():
    from pgm_energy import exact

    bm = _bm(10)
    rbm = _rbm(10, 8)
    return (
        exact.log_partition_function(bm),
        exact.marginals(bm, evidence={bm.names[0]: 1}),
        exact.log_partition_function(rbm),
        exact.marginals(rbm),
        exact.entropy(bm),
        exact.log_likelihood(rbm, _toy_data(20, 10)),
    )


@case
def ais_estimates():
    from pgm_energy import ais

    rbm = _rbm(12, 8)
    result = ais.log_partition_function(rbm, n_runs=40, betas=200, rng=17)
    estimate = ais.estimate_log_likelihood(rbm, _toy_data(30, 12), n_runs=20, betas=100, rng=18)
    return tuple(np.asarray(x, dtype=float) for x in result[:2]), tuple(np.asarray(x, dtype=float) for x in estimate[:2])


@case
def cd_training():
    from pgm_energy.learning import ContrastiveDivergence

    result = ContrastiveDivergence(epochs=3, batch_size=10, monitor=None).fit(6, _toy_data(), rng=19, progress=False)
    model = result.model
    return model.weights, model.visible_bias, model.hidden_bias


@case
def pcd_training_momentum():
    from pgm_energy.learning import ContrastiveDivergence

    trainer = ContrastiveDivergence(epochs=3, batch_size=15, persistent=True, k=2, momentum=0.5, sparsity_target=0.1,
                                    monitor=None, dtype="float64")
    model = trainer.fit(5, _toy_data(), rng=20, progress=False).model
    return model.weights, model.visible_bias, model.hidden_bias


@case
def tempered_training():
    from pgm_energy.learning import ContrastiveDivergence

    trainer = ContrastiveDivergence(epochs=2, batch_size=20, persistent=True, tempering=[1.0, 1.5, 2.0], monitor=None)
    model = trainer.fit(4, _toy_data(), rng=21, progress=False).model
    return model.weights, model.visible_bias, model.hidden_bias


@case
def exact_gradient_training():
    from pgm_energy.learning import ExactGradient

    model = ExactGradient(epochs=4, monitor=None).fit(4, _toy_data(60, 8), rng=22, progress=False).model
    return model.weights, model.visible_bias, model.hidden_bias


@case
def boltzmann_learning():
    from pgm_energy.learning import BoltzmannLearning

    data = _toy_data(40, 6)
    result = BoltzmannLearning(epochs=3, monitor=None).fit(_bm(8), data, visible=np.arange(8) < 6, rng=23, progress=False)
    return result.model.dense_weights(), result.model.biases


@case
def deep_belief_greedy_finetune_sample():
    from pgm_energy import DeepBeliefNetwork
    from pgm_energy.learning import ContrastiveDivergence

    trainer = ContrastiveDivergence(epochs=2, batch_size=20, monitor=None)
    dbn = DeepBeliefNetwork.fit_greedy(_toy_data(), [12, 6, 4], trainer=trainer, rng=24, progress=False)
    tuned = dbn.fine_tune(_toy_data(), epochs=2, rng=25)
    drawn = tuned.sample(20, burn_in=10, rng=26)
    posterior = tuned.gibbs_posterior({tuned.names[0]: 1}, 20, n_chains=2, burn_in=10, rng=27)
    bound = tuned.log_likelihood_bound(_toy_data(10, 12), n_samples=3, n_runs=10, betas=50, rng=28)
    return (tuned.weights, tuned.biases, tuned.recognition_weights, drawn, posterior,
            tuple(np.asarray(x, dtype=float) for x in bound[:2]))


@case
def sigmoid_belief_sampling():
    from pgm_energy import SigmoidBeliefNetwork

    sbn = SigmoidBeliefNetwork.random([3, 4, 5], rng=29)
    return sbn.sample(30, rng=30), sbn.gibbs_posterior({sbn.names[-1]: 1}, 20, n_chains=2, burn_in=5, rng=31)


@case
def gibbs_inference_queries():
    from pgm_energy.inference import GibbsInference

    bm = _bm(8)
    engine = GibbsInference(bm, n_samples=500, n_chains=2, rng=32)
    factor = engine.query([bm.names[0], bm.names[1]], evidence={bm.names[2]: 1})
    return np.asarray(factor.values)


@case
def pgmpy_gibbs_dropin():
    from pgm_energy.interop.pgmpy import to_markov_network
    from pgm_energy.interop.pgmpy_gibbs import GibbsSampling

    network = to_markov_network(_bm(6))
    frame = GibbsSampling(network).sample(size=200, seed=33)
    return frame


@case
def dimod_sampler():
    from pgm_energy.interop.dimod import to_bqm
    from pgm_energy.interop._dimod_sampler import BoltzmannSampler

    result = BoltzmannSampler().sample(to_bqm(_bm(8)), num_reads=5, seed=34)
    return result.record.sample, result.record.energy


@case
def sklearn_rbm():
    from pgm_energy.interop.sklearn import BernoulliRBM

    estimator = BernoulliRBM(n_components=5, n_iter=3, random_state=35).fit(_toy_data())
    return estimator.components_, estimator.transform(_toy_data(10)), estimator.score_samples(_toy_data(10))


def run(names) -> dict:
    prints = {}
    for name in names:
        hasher = hashlib.sha256()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _digest(CASES[name](), hasher)
            prints[name] = hasher.hexdigest()[:16]
        except Exception as error:  # a missing or renamed name shows up as a difference
            prints[name] = f"error: {type(error).__name__}: {str(error)[:120]}"
        print(f"{name:36s} {prints[name]}", flush=True)
    return prints


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the fingerprints to this JSON file")
    parser.add_argument("--compare", help="compare with fingerprints from this JSON file")
    parser.add_argument("cases", nargs="*", help="only these cases (default: all)")
    args = parser.parse_args(argv)
    prints = run(args.cases or list(CASES))
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(prints, handle, indent=1)
    if args.compare:
        with open(args.compare) as handle:
            reference = json.load(handle)
        changed = [name for name in prints if name in reference and reference[name] != prints[name]]
        for name in changed:
            print(f"CHANGED {name}: {reference[name]} -> {prints[name]}")
        print(f"{len(prints) - len(changed)} of {len(prints)} cases have the same bits")
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
