"""The command lines of the programs, one module per executable, named after it.

Each module holds its program's parser and ``main(argv=None)``, which parses,
sets up logging and the root, calls the actions and returns the exit
status; its parser can be imported and tested.  Every executable is the same
thin shell around one ``main``::

    from xsovs_common.actions.commands import openvswitch_boot as command

    if __name__ == "__main__":
        sys.exit(command.main())

Exit statuses (:mod:`xsovs_common.cli`): 0 done, 1 failed, 2 usage error --
any bad value on a command line, never a traceback.  A module imports only
what its program needs, so ``interface-reconfigure`` at boot loads no XAPI
client.
"""
