"""A simulated pool to drive by hand: ``python -m xsovs_dev.play up|down``.

See README ("Try it by hand"), :mod:`xsovs_dev.play.pool` (what ``up`` builds
and ``down`` removes) and :mod:`xsovs_dev.play.xe` (``xe host-call-plugin``).
"""
