"""What each program does: plugin functions, PIF up/down, rewrite, boot, pool runs."""
