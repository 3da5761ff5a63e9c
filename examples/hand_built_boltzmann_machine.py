"""A Boltzmann machine built by hand, converted to pgmpy, and queried both ways.

Two hidden causes (a burglary and an earthquake) and two visible effects (the
alarm rings, a neighbour calls). The weights are chosen so that the causes
compete: once the earthquake is known, the burglary is no longer needed to
explain the alarm ("explaining away"). Every question is answered twice, by
pgm_energy's exact enumeration and by pgmpy's VariableElimination on the
converted Markov network, and the answers are compared.

Run: python examples/hand_built_boltzmann_machine.py
"""

import numpy as np

from pgm_energy import BoltzmannMachine, exact
from pgm_energy.interop.pgmpy import variable_elimination_query

names = ["alarm", "call", "burglary", "quake"]
index = {name: k for k, name in enumerate(names)}
weights = np.zeros((4, 4))
for a, b, w in [
    ("burglary", "alarm", 4.0),   # a burglary sets the alarm off
    ("quake", "alarm", 4.0),      # so does an earthquake
    ("alarm", "call", 3.0),       # the neighbour calls when the alarm rings
    ("burglary", "quake", -3.0),  # one cause suffices: the causes compete
]:
    weights[index[a], index[b]] = weights[index[b], index[a]] = w
biases = np.array([-3.0, -2.0, -3.0, -3.5])
visible = np.array([True, True, False, False])
bm = BoltzmannMachine(weights, biases, visible=visible, names=names)
network = bm.to_markov_network()
network.check_model()

print(bm)
print(f"pgmpy network: {sorted(network.nodes())}, latents {sorted(network.latents)}, "
      f"{len(network.get_factors())} factors")
print(f"log Z = {exact.log_partition_function(bm):.6f}")

questions = [
    ("p(burglary)", ["burglary"], {}),
    ("p(burglary | alarm)", ["burglary"], {"alarm": 1}),
    ("p(burglary | alarm, quake)", ["burglary"], {"alarm": 1, "quake": 1}),
    ("p(burglary, quake | call)", ["burglary", "quake"], {"call": 1}),
]
print(f"\n{'question':32s} {'pgm_energy.exact':>28s} {'pgmpy VariableElimination':>28s}")
for label, variables, evidence in questions:
    ours = exact.query(bm, variables, evidence=evidence).values.ravel()
    theirs = variable_elimination_query(network, variables, evidence=evidence).values.ravel()
    assert np.allclose(ours, theirs, rtol=0, atol=1e-12), (label, ours, theirs)
    print(f"{label:32s} {np.array2string(ours, precision=4):>28s} {np.array2string(theirs, precision=4):>28s}")

alarm_only = exact.query(bm, ["burglary"], evidence={"alarm": 1}).values[1]
with_quake = exact.query(bm, ["burglary"], evidence={"alarm": 1, "quake": 1}).values[1]
print(f"\nexplaining away: p(burglary=1 | alarm) = {alarm_only:.3f} falls to {with_quake:.3f} once the quake is known")

# The round trip back from pgmpy is exact, partition function included.
back = BoltzmannMachine.from_markov_network(network)
print(f"round trip pgmpy -> BoltzmannMachine: log Z {exact.log_partition_function(back):.6f}")
