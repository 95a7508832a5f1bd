"""A simulated pool to drive by hand: ``python -m xsovs_dev.play up|env|down``.

See README ("Try it by hand"), :mod:`xsovs_dev.play.pool` (what ``up`` builds
and ``down`` removes), :mod:`xsovs_dev.play.shell` (the lines to ``eval``:
the exports, and what undoes them) and :mod:`xsovs_dev.play.xe`
(``xe host-list`` and ``xe host-call-plugin``).
"""
