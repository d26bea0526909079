int plugdep_value(void) { return 7; }
