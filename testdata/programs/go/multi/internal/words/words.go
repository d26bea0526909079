// Package words is a library beside the commands: a pattern passes it over (not main).
package words

// Greeting is what both commands print, each with its own name.
func Greeting(who string) string { return "hello from " + who }
