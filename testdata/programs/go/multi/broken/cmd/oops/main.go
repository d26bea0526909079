// Does not compile, on purpose: `elfpack go ./broken/...` must name this package and write no tar for it.
package main

func main() { undefinedFunction() }
