"""Development-only parts of xsovs (simulator, test bed, demo); never installed on a host."""
