"""Explaining away, shown with numbers.

A student scores 100/100. Two causes could explain it: the paper was easy, or the
student is very smart. Before the exam the two causes are independent; once the score
is seen they compete. The score makes "smart" much more probable, but learning that the
paper was easy explains the score away and "smart" falls back towards its prior.

Section 1 builds that story as a three-unit sigmoid belief network and answers the two
questions exactly (pgm_energy's enumeration and pgmpy's VariableElimination on the
converted DiscreteBayesianNetwork, which must agree) and by Gibbs sampling of the hidden
causes given the evidence, with Monte Carlo standard errors.

Section 2 shows the same effect at scale. A deep belief network is trained greedily on the
digits; its bottom directed layer, taken with a factorial prior over its 16 hidden causes,
is a sigmoid belief network in which the causes are independent a priori. Given one image
they become dependent: the exact posterior (enumeration of all 2**16 cause patterns, and
Gibbs sampling as a check) shows correlations between causes. The negative ones are
explaining away proper (causes that would each account for the same pixels compete); positive
ones appear where one cause's effect on a pixel must be completed or cancelled by another's.
In the first RBM of the stack, by contrast, p(h | v)
factorizes and every posterior correlation is zero: an RBM has no explaining away, which is
why its inference is one matrix product, and why a deep belief network's recognition pass
is only an approximation of its directed layer's posterior.

Run: python examples/explaining_away.py
"""

import math

import numpy as np

from pgm_energy import DeepBeliefNetwork, RestrictedBoltzmannMachine, SigmoidBeliefNetwork, exact
from pgm_energy.datasets import load_digits
from pgm_energy.interop.pgmpy import variable_elimination_query
from pgm_energy.learning import ContrastiveDivergence


def logit(p):
    return math.log(p / (1.0 - p))


def student_network():
    """Top layer: the two causes with their priors; bottom layer: the observed score.

    Parameters are read as probabilities: biases are log-odds, and each weight is the
    change of log-odds of a perfect score that one cause brings on its own.
    """
    p_easy, p_smart = 0.20, 0.10  # priors: one paper in five is easy, one student in ten is very smart
    p_score_neither = 0.01  # a hard paper and an ordinary student: 100/100 is rare
    p_score_easy_only = 0.30  # an easy paper lifts an ordinary student to 100/100 sometimes
    p_score_smart_only = 0.60  # a very smart student often gets 100/100 even on a hard paper
    bias = logit(p_score_neither)
    weights = [[logit(p_score_easy_only) - bias, logit(p_score_smart_only) - bias]]
    return SigmoidBeliefNetwork(
        [weights], [[bias], [logit(p_easy), logit(p_smart)]], names=["score_100", "easy_paper", "smart"]
    )


def exact_probability(sbn, network, variable, evidence):
    """p(variable = 1 | evidence) by our enumeration and by pgmpy; they must agree."""
    ours = float(sbn.query([variable], evidence).values[1])
    theirs = float(variable_elimination_query(network, [variable], evidence=evidence).values[1])
    assert abs(ours - theirs) < 1e-12, (variable, evidence, ours, theirs)
    return ours, theirs


def gibbs_probability(sbn, variable, evidence, *, rng):
    """p(variable = 1 | evidence) by Gibbs sampling, with its Monte Carlo standard error."""
    draws = sbn.gibbs_posterior(evidence, 25_000, n_chains=4, burn_in=1_000, rng=rng)
    return float(draws.marginals()[variable]), float(draws.marginal_standard_errors()[variable])


def section_student_and_exam():
    """Section 1: the three-unit story, exact and sampled."""
    print("1. A student scores 100/100: was the paper easy, or is the student very smart?")
    sbn = student_network()
    network = sbn.to_bayesian_network()
    network.check_model()
    for name in sbn.names:
        parents, table = sbn.conditional_table(name)
        given = f" given ({', '.join(parents)}) = 00, 01, 10, 11" if parents else " (prior)"
        print(f"   p({name} = 1){given}: {', '.join(f'{p:.3f}' for p in table[1])}")

    questions = [
        ("P(smart)", {}),
        ("P(smart | 100/100)", {"score_100": 1}),
        ("P(smart | 100/100, easy paper)", {"score_100": 1, "easy_paper": 1}),
        ("P(smart | 100/100, hard paper)", {"score_100": 1, "easy_paper": 0}),
    ]
    print(f"\n   {'question':32s} {'pgm_energy':>10s} {'pgmpy VE':>10s} {'Gibbs':>8s} {'± s.e.':>8s}")
    answers = {}
    for k, (label, evidence) in enumerate(questions):
        ours, theirs = exact_probability(sbn, network, "smart", evidence)
        sampled, error = gibbs_probability(sbn, "smart", evidence, rng=k)
        # the sampler targets the exact posterior: a miss by 5 standard errors is a one-in-a-million event
        assert abs(sampled - ours) < 5 * error + 1e-12, (label, sampled, ours, error)
        print(f"   {label:32s} {ours:10.4f} {theirs:10.4f} {sampled:8.4f} {error:8.4f}")
        answers[label] = ours
    prior, alone, explained, hard = answers.values()
    print(
        f"\n   The perfect score is strong evidence: it raises P(smart) from {prior:.2f} to {alone:.2f}.\n"
        f"   But the score needs only one explanation. Once we learn the paper was easy, the easy paper\n"
        f"   accounts for the score and P(smart) drops to {explained:.2f}, {(alone - explained) / (alone - prior):.0%} of the "
        f"way back to its prior:\n"
        f"   the easy paper has explained the smartness away. Learning the paper was hard does the opposite\n"
        f"   ({hard:.2f}): the other explanation is gone. The causes were independent before the exam;\n"
        f"   observing their common effect made them compete. In the network this is the child's term in\n"
        f"   each cause's Gibbs conditional, which depends on the other cause: the sampler needs the full\n"
        f"   Markov blanket (parents, children and the children's other parents)."
    )
    assert explained < alone < hard and prior < alone
    return answers


def posterior_correlations(factor):
    """Correlation matrix of binary variables from a joint DiscreteFactor (C order, states 0/1)."""
    n = len(factor.variables)
    p = np.asarray(factor.values, dtype=np.float64).ravel()
    bits = ((np.arange(p.size)[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)
    mean = np.einsum("s,si->i", p, bits)
    covariance = np.einsum("s,si,sj->ij", p, bits, bits) - np.outer(mean, mean)
    scale = np.sqrt(np.clip(np.diag(covariance), 1e-300, None))
    return covariance / np.outer(scale, scale)


def off_diagonal(matrix):
    return matrix[~np.eye(matrix.shape[0], dtype=bool)]


def section_deep_belief_network(n_causes=16, n_images=5):
    """Section 2: explaining away among the hidden causes of a trained DBN's directed layer."""
    print("\n2. Explaining away at scale: the bottom layer of a deep belief network trained on digits")
    split = load_digits(test_size=0.2, rng=0)
    trainer = ContrastiveDivergence(  # CD-1 for the greedy layers
        persistent=False, epochs=20, learning_rate=0.05, weight_decay=1e-4, averaging=None, monitor=None
    )
    dbn = DeepBeliefNetwork.fit_greedy(split.train, [n_causes, 8], trainer=trainer, rng=0, progress=False)
    directed = dbn.directed_part()  # layer 1 with a factorial prior: the top RBM's exact marginals
    causes = list(directed.layers[1])
    first_rbm = RestrictedBoltzmannMachine(  # the greedy stack's first RBM (tied recognition)
        dbn.weights[0], dbn.biases[0], dbn.recognition_biases[0], hidden_names=causes
    )
    print(f"   DBN layers {dbn.layer_sizes}; directed layer: 64 pixels caused by {n_causes} binary causes")
    print(f"   Posterior correlations of the {n_causes * (n_causes - 1) // 2} pairs of causes given each test image (exact):")
    print(f"   {'image':>5s} {'digit':>5s} {'mean |corr|':>11s} {'most negative':>13s} {'most positive':>13s} "
          f"{'RBM max |corr|':>14s}")
    # A priori the causes are independent: the top layer of `directed` has no parents and a
    # product prior, so every prior correlation is 0 by construction.
    strongest = []
    for image in range(n_images):
        evidence = dict(zip(directed.visible_names, split.test[image].tolist()))
        correlation = off_diagonal(posterior_correlations(directed.query(causes, evidence)))
        # the first RBM's posterior over two causes, exactly (enumeration): it factorizes
        pair_worst = 0.0
        for a, b in [(0, 1), (2, 3), (4, 5)]:
            joint = exact.query(first_rbm, [causes[a], causes[b]], evidence=evidence)
            pair_worst = max(pair_worst, abs(off_diagonal(posterior_correlations(joint))).max())
        print(f"   {image:5d} {int(split.test_target[image]):5d} {np.mean(np.abs(correlation)):11.3f} "
              f"{correlation.min():13.3f} {correlation.max():13.3f} {pair_worst:14.1e}")
        strongest.append((correlation.min(), image))
        assert pair_worst < 1e-9
    value, image = min(strongest)
    evidence = dict(zip(directed.visible_names, split.test[image].tolist()))
    matrix = posterior_correlations(directed.query(causes, evidence))
    a, b = np.unravel_index(np.argmin(matrix + 2 * np.eye(n_causes)), matrix.shape)
    pair = [causes[a], causes[b]]
    exact_pair = posterior_correlations(directed.query(pair, evidence))[0, 1]
    draws = directed.gibbs_posterior(evidence, 10_000, n_chains=4, burn_in=500, rng=1)
    sampled = np.corrcoef(draws.flat_states()[:, [directed.index(name) for name in pair]].T)[0, 1]
    print(
        f"\n   Image {image}: causes {pair[0]} and {pair[1]} have posterior correlation {exact_pair:.3f} exactly\n"
        f"   ({sampled:.3f} by Gibbs sampling over the Markov blanket), although they are independent a priori.\n"
        f"   Once the image is seen, each is an alternative explanation of the pixels the other accounts\n"
        f"   for: evidence for one is evidence against the other. The first RBM's p(h | v) is a product of\n"
        f"   independent sigmoids: its posterior correlations are zero to rounding (last column, exact, on\n"
        f"   three pairs of causes). Greedy training uses that factorial posterior as the recognition model\n"
        f"   of the directed layer: it ignores explaining away, which is what the complementary prior of the\n"
        f"   layers above is meant to cancel (Hinton, Osindero & Teh, 2006)."
    )
    assert abs(sampled - exact_pair) < 0.05
    assert value < -0.05
    return value


def main():
    section_student_and_exam()
    section_deep_belief_network()


if __name__ == "__main__":
    main()
