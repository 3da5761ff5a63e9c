"""Deep belief network or deep Boltzmann machine? The same digits, the same hidden units, two graphs.

Both models put two layers of binary hidden units over the 64 pixels of scikit-learn's 8x8
digits (binarized; the 80/20 split ``load_digits(test_size=0.2, rng=0)``): 64 - 20 - 10 units,
1,480 connections. They differ in the direction of the edges.

* In the deep belief network (DBN) only the top pair is undirected: h1 and h2 form an RBM,
  which acts as a *prior* over h1, and every pixel is drawn from ``sigmoid(b + W h1)``. Given
  an image, the causes in h1 compete to explain its pixels: every pixel has all of h1 as
  parents, so seeing it couples them (explaining away), whatever h2 is.
* In the deep Boltzmann machine (DBM) every edge is undirected. Given an image, h1 gets input
  from below (the pixels) and from above (h2): the top layer *feeds back* into h1's posterior.
  Given v and h2, the units of h1 are independent (each one's conditional is a sigmoid of its
  two neighbouring layers), so all their posterior dependence given v comes through h2.

In both, h2's only neighbour is h1: given h1, h2 no longer depends on the image.

1. Both are trained on the same 1,437 images: the DBN greedily (one RBM per layer, CD-1) plus a
   short up-down fine-tuning; the DBM by layer-wise pretraining with doubled inputs plus a
   *short* joint run (mean-field positive phase, persistent chains) of 40 epochs, so that the
   example runs in seconds. ``benchmarks/bench_deep_boltzmann.py`` runs the full recipe (64-20-20,
   1500 epochs, about 80 s), which reaches exact test log-likelihoods of -17.65 and -17.91 nats.
   With 20 units in h1 and a graph bipartite between (v, h2) and h1, the DBM's ``log Z`` and
   ``log p(v)`` are exact; beside them, its mean-field lower bound and an AIS estimate of
   ``log Z``. The DBN is scored on the test set by its variational bound (the recognition model
   as ``q``). Its exact ``log p(v)`` is enumerable too (2**20 patterns of h1 per image) but takes
   seconds per image, so section 2 computes it for one image only. (Measured once outside the
   example, over the 360 test images: about -18.2 nats for the fine-tuned DBN and -18.5 for the
   greedy one, against bounds of -18.7 and -19.1 and the short DBM's exact -18.6.)
2. The hidden causes of one test image (a 3), layer by layer. For each model one exact query
   gives the joint posterior of h1 over its 2**20 patterns, and with it h2's posterior, the
   dependence between h1's units (given the image, and given the image and h2) and, by Bayes'
   rule, the exact ``log p(image)``. Beside it, pgmpy's VariableElimination on the DBM's Markov
   network and Gibbs sampling with standard errors (both must agree with it), and each model's
   fast approximation: mean field for the DBM (what it is trained with; it drops every
   correlation and is typically over-confident), the bottom-up recognition pass for the DBN.
3. The graphs: the DBM's has only undirected edges; the DBN's is a hybrid, and compiling it into
   one Markov network adds the moralization edges that carry explaining away.

Run: python examples/deep_boltzmann_vs_belief.py (about ten seconds on two idle cores).
"""

import time
import warnings

import numpy as np

from pgm_energy import DeepBeliefNetwork, ais, exact
from pgm_energy.datasets import load_digits
from pgm_energy.inference import ExactInference, GibbsInference, MeanFieldInference
from pgm_energy.learning import ContrastiveDivergence, DeepBoltzmannPCD, pretrain_deep_boltzmann

HIDDEN = [20, 10]  # the same hidden budget for both models
DBM_EPOCHS = 40  # the benchmark's recipe runs 1500 (with 20 units in h2)
SHOWN = 3  # hidden units shown per layer in section 2


# ---------------------------------------------------------------------------- section 1
def train_deep_belief_network(train):
    """Greedy stack of two RBMs (CD-1), then a short up-down fine-tuning."""
    trainer = ContrastiveDivergence(
        persistent=False, epochs=30, learning_rate=0.05, weight_decay=1e-4, averaging=None, monitor=None
    )
    greedy = DeepBeliefNetwork.fit_greedy(train, HIDDEN, trainer=trainer, rng=0, progress=False)
    return greedy, greedy.fine_tune(train, epochs=10, rng=0)


def train_deep_boltzmann_machine(train):
    """Layer-wise pretraining (doubled inputs), then joint training: mean field against persistent chains."""
    start = pretrain_deep_boltzmann(train, HIDDEN, epochs=20, rng=0)
    trainer = DeepBoltzmannPCD(epochs=DBM_EPOCHS, learning_rate=0.005, batch_size=20, averaging=0.5, monitor=None)
    return trainer.fit(start, train, rng=0, progress=False).model


def exact_log_likelihoods(dbm, rows, log_z):
    """Exact ``log p(v)`` of each row: ``log Z`` of the machine with v clamped, minus ``log Z``.

    With v clamped, what is left (h1 - h2) is an RBM: the enumeration runs over its smaller
    layer, the 2**10 patterns of h2, and sums h1 in closed form.
    """
    names = dbm.visible_names
    clamped = [exact.log_partition_function(dbm, evidence=dict(zip(names, row.tolist()))) for row in rows]
    return np.array(clamped) - log_z


def section_likelihoods(split):
    """Section 1: train both models on the same digits and score them on the held-out ones."""
    print(f"1. The same digits ({split.train.shape[0]} train, {split.test.shape[0]} test), "
          f"the same hidden budget: 64-{HIDDEN[0]}-{HIDDEN[1]}")
    started = time.perf_counter()
    greedy, dbn = train_deep_belief_network(split.train)
    dbn_seconds = time.perf_counter() - started
    started = time.perf_counter()
    dbm = train_deep_boltzmann_machine(split.train)
    dbm_seconds = time.perf_counter() - started
    print(f"   DBN: greedy CD-1 (30 epochs per layer) + 10 epochs of up-down fine-tuning, {dbn_seconds:.1f} s")
    print(f"   DBM: pretraining (20 epochs per layer) + {DBM_EPOCHS} epochs of joint PCD, {dbm_seconds:.1f} s "
          "(the benchmark's recipe: 1500 epochs)")

    # The DBM's partition function: exact (2**20 patterns of h1, v and h2 summed in closed form),
    # and estimated by annealed importance sampling as one must for a larger machine.
    log_z = exact.log_partition_function(dbm)
    annealed = ais.log_partition_function(dbm, n_runs=100, betas=1000, data=split.train, rng=0)
    print(f"\n   DBM log Z: exact {log_z:.3f}, AIS {annealed.log_z:.3f} ± {annealed.log_z_std:.3f} "
          f"(100 runs of 1,000 steps)")
    # AIS's log Z is biased low and its standard deviation is itself an estimate: a small allowance
    assert abs(annealed.log_z - log_z) < 5 * annealed.log_z_std + 0.05, (annealed.log_z, log_z)

    # exact.log_likelihood(dbm, rows) gives the same mean, but it enumerates h1 once for all rows,
    # which is slower here, where h2 is the smaller layer
    exact_rows = exact_log_likelihoods(dbm, split.test, log_z)
    bound = ais.log_likelihood_bound(dbm, split.test, log_z=log_z, max_iterations=300)  # one image needs ~170 sweeps
    # a lower bound, image by image: the mean-field q misses the KL(q || p(h | v)) gap
    assert np.all(bound.per_row <= exact_rows + 1e-9)
    dbn_bounds = {name: model.log_likelihood_bound(split.test, n_samples=10, rng=0)
                  for name, model in (("greedy", greedy), ("fine-tuned", dbn))}

    print(f"\n   Test log-likelihood, nats per image ({split.test.shape[0]} images):")
    print(f"   {'model':26s} {'exact':>8s} {'lower bound':>12s}  bound")
    label = f"DBM ({DBM_EPOCHS} epochs of PCD)"
    print(f"   {label:26s} {exact_rows.mean():8.2f} {bound.mean:12.2f}  mean field, exact log Z")
    for name, result in dbn_bounds.items():
        print(f"   {'DBN, ' + name:26s} {'':>8s} {result.mean:12.2f}  recognition q, ± {result.standard_error:.2f} "
              f"(exact log Z of the top RBM)")
    gap = exact_rows.mean() - bound.mean
    print(f"\n   The DBM's mean-field bound is {gap:.2f} nats below its exact value, and below it on every image\n"
          f"   (asserted). Each bound sits below the truth by the gap KL(q || p(h | v)) of its own q: mean field is\n"
          f"   fitted to each image by iteration, the DBN's recognition q is one bottom-up pass that ignores\n"
          f"   explaining away. So the bounds rank model and inference together, not the likelihoods alone\n"
          f"   (section 2 gives both exact values for one image). The DBM's full recipe (64-20-20) reaches -17.65 / -17.91.")
    return dbn, dbm, log_z


# ---------------------------------------------------------------------------- section 2
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def h1_patterns(n, start, stop):
    """Rows ``start .. stop - 1`` of the 2**n patterns of h1 in C order (the first unit is the most significant bit)."""
    return ((np.arange(start, stop)[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)


# In both models h2's only neighbour is h1, so h2 sees the image only through h1:
# p(h2 | h1, v) = p(h2 | h1) = prod_k sigmoid(c_k + (h1 W)_k). An exact table p(h1 | v) over all
# 2**20 patterns of h1 (one pgmpy-style query) therefore answers questions about h2 as well.
CHUNK = 1 << 16  # patterns of h1 per block


def top_layer_posterior(table, weights, bias):
    """``p(h2_k = 1 | v) = sum_h1 p(h1 | v) sigmoid(c_k + (h1 W)_k)``; W: (n_h1, n_h2), c: (n_h2,)."""
    p = table.ravel()
    total = np.zeros(weights.shape[1])
    for start in range(0, p.size, CHUNK):
        h1 = h1_patterns(weights.shape[0], start, min(start + CHUNK, p.size))
        total += p[start : start + h1.shape[0]] @ sigmoid(h1 @ weights + bias)
    return total


def given_top_layer(table, weights, bias, top_state):
    """The table ``p(h1 | v, h2 = top_state)``, proportional to ``p(h1 | v) p(h2 = top_state | h1)`` (Bayes' rule)."""
    p = table.ravel()
    top_state = np.asarray(top_state, dtype=np.float64)
    weighted = np.empty_like(p)
    for start in range(0, p.size, CHUNK):
        h1 = h1_patterns(weights.shape[0], start, min(start + CHUNK, p.size))
        on = sigmoid(h1 @ weights + bias)  # p(h2_k = 1 | h1), one row per pattern
        weighted[start : start + h1.shape[0]] = p[start : start + h1.shape[0]] * np.prod(
            np.where(top_state == 1.0, on, 1.0 - on), axis=1)
    return (weighted / weighted.sum()).reshape(table.shape)


def table_marginals(table):
    """``p(unit = 1)`` of every unit of a joint table with one axis (of length 2) per unit."""
    axes = range(table.ndim)
    return np.array([table.sum(axis=tuple(other for other in axes if other != unit))[1] for unit in axes])


def table_correlations(table, units):
    """Correlation matrix of ``units`` (axes of the table, increasing) from their 2 x 2 joint tables."""
    table = table.sum(axis=tuple(other for other in range(table.ndim) if other not in units))  # the others summed out
    matrix = np.eye(len(units))
    for a in range(len(units)):
        for b in range(a + 1, len(units)):
            joint = table.sum(axis=tuple(other for other in range(len(units)) if other not in (a, b)))
            p, q = joint[1, :].sum(), joint[:, 1].sum()
            matrix[a, b] = matrix[b, a] = (joint[1, 1] - p * q) / np.sqrt(p * (1.0 - p) * q * (1.0 - q))
    return matrix


def dependence_inside_h1(table, p_h1, weights, bias, top_state, min_variance=0.01):
    """Largest |posterior correlation| between two units of h1, given v and given v and ``h2 = top_state``.

    Only units with ``p(1 - p) > min_variance`` given v take part: a unit all but fixed by the
    image says little through its correlations. Also returns the table given v and h2.
    """
    units = [int(k) for k in np.flatnonzero(p_h1 * (1.0 - p_h1) > min_variance)]
    given_top = given_top_layer(table, weights, bias, top_state)
    strongest = []
    for joint in (table, given_top):
        matrix = np.abs(table_correlations(joint, units))
        np.fill_diagonal(matrix, 0.0)
        strongest.append(matrix.max() if len(units) > 1 else 0.0)
    return strongest, given_top


def most_uncertain(names, probabilities, n=SHOWN):
    """The ``n`` units whose posterior is closest to 1/2 (where the approximations are tested hardest)."""
    order = np.argsort(np.abs(np.asarray(probabilities) - 0.5), kind="stable")[:n]
    return [names[k] for k in sorted(order)]


def overconfidence(approximate, exact_p):
    """Mean |error| and the share of units the approximation pushes further from 1/2 than the truth."""
    approximate, exact_p = np.asarray(approximate), np.asarray(exact_p)
    further = np.abs(approximate - 0.5) > np.abs(exact_p - 0.5) + 1e-9
    return np.mean(np.abs(approximate - exact_p)), np.mean(further)


def print_posterior_table(title, approximation, rows):
    print(f"\n   {title}: p(unit = 1 | image)")
    print(f"   {'unit':6s} {'exact':>7s} {'Gibbs':>7s} {'± s.e.':>7s} {approximation:>12s} {'error':>7s}")
    for name, p, g, se, q in rows:
        print(f"   {name:6s} {p:7.3f} {g:7.3f} {se:7.3f} {q:12.3f} {q - p:+7.3f}")


def check_gibbs(names, exact_p, sampled, errors, n_draws):
    """Every Gibbs estimate within 5 standard errors of the exact answer (a one-in-a-million miss).

    A unit whose exact probability is of the order of 1/n_draws may never be seen on, with a
    standard error of 0: the tolerance keeps an allowance of 5 draws for it.
    """
    for name, p, g, se in zip(names, exact_p, sampled, errors):
        assert abs(g - p) < 5 * se + 5.0 / n_draws, (name, g, p, se)


def log_evidence_by_bayes(log_joint, table, image, weights, bias):
    """Exact ``log p(v)`` from the exact table ``p(h1 | v)``: Bayes' rule read backwards.

    ``p(v) = p(v, h1, h2) / (p(h1 | v) p(h2 | h1))`` for any pattern with a non-zero posterior; here
    h1's most probable pattern and h2's most probable values given it. ``log_joint`` is the
    model's exact ``log p`` of a complete state (v, h1, h2).
    """
    mode = np.unravel_index(int(np.argmax(table)), table.shape)
    h1 = np.array(mode, dtype=np.float64)
    on = sigmoid(h1 @ weights + bias)  # p(h2 = 1 | h1)
    h2 = (on > 0.5).astype(np.float64)
    log_top = np.sum(np.log(np.where(h2 == 1.0, on, 1.0 - on)))
    return float(log_joint(np.concatenate([image, h1, h2]))) - np.log(table[mode]) - log_top


def pgmpy_marginals(dbm, variables, evidence):
    """``p(unit = 1 | evidence)`` of ``variables`` by pgmpy's VariableElimination on ``dbm.to_markov_network()``.

    The elimination order matters: with v observed, each unit of h1 touches only h2, so eliminating
    the other units of h1 first keeps every intermediate factor within h2 (2**10 cells), where
    eliminating h2 first would join all of h1 into one factor of 2**20 cells.
    """
    with warnings.catch_warnings():  # pgmpy 1.x announces a renaming when its inference module loads
        warnings.simplefilter("ignore", FutureWarning)
        from pgmpy.inference import VariableElimination
    order = [name for layer in (1, 2) for name in dbm.layers[layer] if name not in variables]
    result = VariableElimination(dbm.to_markov_network()).query(
        list(variables), evidence=evidence, elimination_order=order, show_progress=False)
    result.normalize()  # on a Markov network pgmpy leaves the answer scaled by Z
    return [float(result.marginalize([other for other in variables if other != name], inplace=False)
                  .get_value(**{name: 1})) for name in variables]


def dbm_queries(dbm, evidence):
    """The DBM's posterior at each layer: exact, Gibbs and mean field; then the dependence inside h1."""
    h1, h2 = list(dbm.layers[1]), list(dbm.layers[2])
    hidden = h1 + h2
    truth = exact.marginals(dbm, evidence=evidence)[hidden].to_numpy()
    # the same question to the exact, Gibbs and mean-field engines (pgmpy-style queries)
    n_samples, n_chains = 3_000, 4
    sampled = GibbsInference(dbm, n_samples=n_samples, n_chains=n_chains, burn_in=300, rng=1).query_with_errors(
        hidden, evidence=evidence, joint=False)
    gibbs = np.array([sampled.factor[name].values[1] for name in hidden])
    errors = np.array([sampled.standard_errors[name][1] for name in hidden])
    check_gibbs(hidden, truth, gibbs, errors, n_samples * n_chains)
    field = MeanFieldInference(dbm).query(hidden, evidence=evidence, joint=False)
    means = np.array([field[name].values[1] for name in hidden])
    shown = most_uncertain(h1, truth[: len(h1)]) + most_uncertain(h2, truth[len(h1) :])
    at = {name: k for k, name in enumerate(hidden)}
    rows = [(name, truth[at[name]], gibbs[at[name]], errors[at[name]], means[at[name]]) for name in shown]
    print_posterior_table("DBM (undirected everywhere)", "mean field", rows)
    # an independent exact answer: pgmpy, for one unit of each layer
    pair = [shown[0], shown[SHOWN]]
    theirs = pgmpy_marginals(dbm, pair, evidence)
    assert np.allclose(theirs, [truth[at[name]] for name in pair], atol=1e-9, rtol=0.0), (pair, theirs)
    print(f"   (pgmpy's VariableElimination on dbm.to_markov_network() agrees on {pair[0]} and {pair[1]}: "
          f"{theirs[0]:.3f}, {theirs[1]:.3f})")
    for layer, part in ((1, slice(0, len(h1))), (2, slice(len(h1), None))):
        error, share = overconfidence(means[part], truth[part])
        print(f"   all {len(hidden[part])} units of h{layer}: mean |mean field - exact| = {error:.3f}; "
              f"more confident than the truth on {share:.0%} of them")

    # The exact joint posterior of h1 (2**20 cells): what h1's units say about each other.
    factor = ExactInference(dbm).query(h1, evidence=evidence)
    table = np.asarray(factor.values)
    assert np.allclose(top_layer_posterior(table, dbm.weights[1], dbm.biases[2]), truth[len(h1) :], atol=1e-9)
    top_state = (truth[len(h1) :] > 0.5).astype(int)  # h2 at its most probable values, unit by unit
    strongest, given_top = dependence_inside_h1(table, truth[: len(h1)], dbm.weights[1], dbm.biases[2], top_state)
    # Clamping h2 through the library gives the same p(h1 | v, h2), and mean field is exact there:
    # given both of its neighbouring layers, h1 is a layer of independent sigmoid units.
    clamped = {**evidence, **dict(zip(h2, top_state.tolist()))}
    clamped_truth = exact.marginals(dbm, evidence=clamped)[h1].to_numpy()
    clamped_field = MeanFieldInference(dbm).posterior_means(clamped)[[dbm.index(name) for name in h1]]
    assert np.allclose(table_marginals(given_top), clamped_truth, atol=1e-9)
    field_error = np.abs(clamped_field - clamped_truth).max()
    assert field_error < 1e-9
    image = np.array([evidence[name] for name in dbm.visible_names], dtype=np.float64)
    log_p_image = log_evidence_by_bayes(lambda state: exact.log_probability(dbm, state), table, image,
                                        dbm.weights[1], dbm.biases[2])
    return strongest, field_error, log_p_image


def dbn_queries(dbn, evidence):
    """The DBN's posterior at each layer: exact, Gibbs and the recognition pass; then the dependence inside h1."""
    h1, h2 = list(dbn.layers[1]), list(dbn.layers[2])
    hidden = h1 + h2
    # Exact: one query enumerates the 2**20 patterns of h1 (h2 summed in closed form given h1).
    factor = dbn.query(h1, evidence)
    assert list(factor.variables) == h1
    table = np.asarray(factor.values)
    top_weights, top_bias = dbn.weights[1], dbn.biases[2]  # the top RBM: h1 (its lower side) - h2
    p_h1 = table_marginals(table)
    p_top = top_layer_posterior(table, top_weights, top_bias)
    top_state = (p_top > 0.5).astype(int)  # h2 at its most probable values, unit by unit
    strongest, _ = dependence_inside_h1(table, p_h1, top_weights, top_bias, top_state)
    truth = np.concatenate([p_h1, p_top])

    n_samples, n_chains = 3_000, 4
    draws = dbn.gibbs_posterior(evidence, n_samples, n_chains=n_chains, burn_in=300, rng=2, progress=False)
    gibbs = draws.marginals()[hidden].to_numpy()
    errors = draws.marginal_standard_errors()[hidden].to_numpy()
    check_gibbs(hidden, truth, gibbs, errors, n_samples * n_chains)
    image = np.array([[evidence[name] for name in dbn.visible_names]])
    recognition = np.concatenate([dbn.transform(image, layer=1)[0], dbn.transform(image, layer=2)[0]])
    shown = most_uncertain(h1, p_h1) + most_uncertain(h2, p_top)
    at = {name: k for k, name in enumerate(hidden)}
    rows = [(name, truth[at[name]], gibbs[at[name]], errors[at[name]], recognition[at[name]]) for name in shown]
    print_posterior_table("DBN (directed below the top RBM)", "recognition", rows)
    for layer, part in ((1, slice(0, len(h1))), (2, slice(len(h1), None))):
        error, share = overconfidence(recognition[part], truth[part])
        print(f"   all {len(hidden[part])} units of h{layer}: mean |recognition - exact| = {error:.3f}; "
              f"more confident than the truth on {share:.0%} of them")

    log_p_image = log_evidence_by_bayes(dbn.log_probability, table, image[0], top_weights, top_bias)
    return strongest, log_p_image


def section_hidden_causes(split, dbn, dbm, log_z):
    """Section 2: hidden-cause queries at each layer for one test image, in both models."""
    image = int(np.flatnonzero(split.test_target == 3)[0])
    row = split.test[image]
    print(f"\n2. What caused test image {image} (a 3)? The posterior of the hidden units, layer by layer")
    print("   (shown: the three units of each layer whose exact posterior is closest to 1/2; Gibbs: 4 chains of\n"
          "   3,000 draws after 300 sweeps of burn-in, every hidden unit within 5 standard errors of the exact\n"
          "   answer, asserted)")
    dbm_strongest, field_error, dbm_log_p = dbm_queries(dbm, dict(zip(dbm.visible_names, row.tolist())))
    dbn_strongest, dbn_log_p = dbn_queries(dbn, dict(zip(dbn.visible_names, row.tolist())))

    print("\n   Do the causes in h1 depend on each other? Largest |posterior correlation| between two units of h1\n"
          "   (exact, from the joint table over all 2**20 patterns of h1; units with p(1 - p) > 0.01 given v):")
    print(f"   {'model':6s} {'given the image':>16s} {'given the image and h2':>23s}")
    for name, (given_v, given_top) in (("DBM", dbm_strongest), ("DBN", dbn_strongest)):
        print(f"   {name:6s} {given_v:16.3f} {given_top:23.3f}")
    assert dbm_strongest[1] < 1e-6
    print(f"\n   In the DBM, h2 is a neighbour of h1 and feeds back into it: the image and the top layer shape\n"
          f"   p(h1 | v) together, and h1's units depend on each other only through h2. Clamp h2 and they are\n"
          f"   independent (correlation 0, and mean field becomes exact: error {field_error:.0e}); mean field's\n"
          f"   errors above come from the uncertain h2, whose coupling to h1 a factorial q cannot represent.\n"
          f"   In the DBN, h2 enters h1's posterior only through the top RBM's prior over h1, and p(v | h1)\n"
          f"   makes the causes in h1 compete for the pixels: explaining away, which stays when h2 is known\n"
          f"   and which the recognition pass (one factorial bottom-up sweep) ignores.")
    # log p(image) three ways for the DBM (section 1's sum over h2, Bayes' rule on the table over h1,
    # the mean-field bound) and two for the DBN (Bayes' rule, the bound estimated from q's samples)
    per_image = exact_log_likelihoods(dbm, row[None, :], log_z)[0]
    assert abs(per_image - dbm_log_p) < 1e-8, (per_image, dbm_log_p)
    dbm_bound = ais.log_likelihood_bound(dbm, row[None, :], log_z=log_z, max_iterations=300).mean
    dbn_bound = dbn.log_likelihood_bound(row[None, :], n_samples=1_000, rng=3)
    print("\n   log p(image) exactly, by Bayes' rule on each model's table p(h1 | v): p(v) = p(v, h) / p(h | v)")
    print(f"   DBM {dbm_log_p:.3f} (the sum over h2 of section 1 agrees to 1e-8), mean-field bound {dbm_bound:.3f}")
    print(f"   DBN {dbn_log_p:.3f}, variational bound {dbn_bound.mean:.3f} ± {dbn_bound.standard_error:.3f} "
          f"(1,000 samples of q)")
    assert dbm_bound <= dbm_log_p + 1e-9
    assert dbn_bound.mean < dbn_log_p + 5 * dbn_bound.standard_error


# ---------------------------------------------------------------------------- section 3
def section_graphs(dbn, dbm):
    """Section 3: edge counts and kinds of the two graphs."""
    print("\n3. The graphs")
    undirected = dbm.graph
    print(f"   DBM: one undirected graph, {undirected.number_of_nodes()} nodes, {undirected.number_of_edges()} edges "
          f"(v-h1 and h1-h2 only; no edge inside a layer)")
    hybrid = dbn.hybrid_graph
    moral = dbn.graph  # the structure of dbn.to_markov_network()
    moral_edges = [(a, b) for a, b, data in moral.edges(data=True) if data.get("moral")]
    inside_h1 = sum(1 for a, b in moral_edges if a.startswith("h1_") and b.startswith("h1_"))
    print(f"   DBN: a hybrid graph, {hybrid.undirected.number_of_edges()} undirected edges (the top RBM, h1-h2) and "
          f"{hybrid.directed.number_of_edges()} directed edges (h1 -> v)")
    print(f"        compiled into one Markov network: {moral.number_of_edges()} edges, of which "
          f"{len(moral_edges)} are\n        moralization edges, each joining two units of h1")
    print("   The moralization edges join the parents of each pixel: every pair of h1 units shares a child,\n"
          "   so in the DBN's Markov network h1 is a clique, and no clamping of h2 separates its units.\n"
          "   In the DBM, h1 has no edge inside it: clamping v and h2 separates every unit of h1.")
    assert len(moral_edges) == inside_h1 == HIDDEN[0] * (HIDDEN[0] - 1) // 2
    assert undirected.number_of_edges() == 64 * HIDDEN[0] + HIDDEN[0] * HIDDEN[1]
    assert hybrid.undirected.number_of_edges() + hybrid.directed.number_of_edges() == undirected.number_of_edges()


def main():
    split = load_digits(test_size=0.2, rng=0)
    dbn, dbm, log_z = section_likelihoods(split)
    section_hidden_causes(split, dbn, dbm, log_z)
    section_graphs(dbn, dbm)


if __name__ == "__main__":
    main()
