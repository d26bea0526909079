// A stdlib-only HTTP server; -version prints which build it is and exits, so a test can run it
// in a container without a network.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"runtime"
)

func main() {
	version := flag.Bool("version", false, "print the build's platform and exit")
	addr := flag.String("addr", ":8080", "address to listen on")
	flag.Parse()
	if *version {
		fmt.Printf("server %s/%s\n", runtime.GOOS, runtime.GOARCH)
		return
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	log.Fatal(http.ListenAndServe(*addr, nil))
}
