int deep_value(void) { return 5; }
