// A TLS client: GET over HTTPS, verified against the system's CA bundle. -roots prints how many
// certificates the system pool holds and exits, so a test can check the bundle with no network.
package main

import (
	"crypto/x509"
	"flag"
	"fmt"
	"net/http"
	"os"
)

func main() {
	roots := flag.Bool("roots", false, "print how many CA certificates the system pool holds and exit")
	flag.Parse()
	if *roots {
		pool, err := x509.SystemCertPool()
		if err != nil {
			fmt.Println("no system roots:", err)
			os.Exit(1)
		}
		fmt.Println("roots:", len(pool.Subjects()))
		return
	}
	resp, err := http.Get(flag.Arg(0))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println(resp.Status)
}
