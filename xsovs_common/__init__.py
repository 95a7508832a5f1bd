"""xsovs: Open vSwitch integration for XenServer and XCP-ng hosts.

Everything the executables under ``libexec/`` and ``xapi.d/plugins/`` do lives
in this package, one module per job.  Code here runs on dom0's Python 3.6.
"""

__version__ = "0.1.0"
