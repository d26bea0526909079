int conf_value(void) { return 7; }
