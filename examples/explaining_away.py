"""Explaining away, shown with numbers.

A student scores 100/100. Two causes could explain it: the paper was easy, or the
student is very smart. Before the exam the two causes are independent; once the score
is seen they compete. The score makes "smart" much more probable, but learning that the
paper was easy explains the score away and "smart" falls back towards its prior.

Section 1 builds that story as a three-unit sigmoid belief network and answers the two
questions exactly (pgm_energy's enumeration and pgmpy's VariableElimination on the
converted DiscreteBayesianNetwork, which must agree) and by Gibbs sampling of the hidden
causes given the evidence, with Monte Carlo standard errors.

Run: python examples/explaining_away.py
"""

import math

from pgm_energy import SigmoidBeliefNetwork
from pgm_energy.interop.pgmpy import variable_elimination_query


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
    column = sbn.index(variable)
    return float(draws.marginals()[column]), float(draws.marginal_standard_errors()[column])


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


def main():
    section_student_and_exam()
    # Section 2 (explaining away at scale in a trained deep belief network) comes here.


if __name__ == "__main__":
    main()
