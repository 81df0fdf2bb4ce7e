// go_serial - the experiment's serial Go client: http.Get in a loop.
//
//	go_serial [-identity] URL_TEMPLATE ID|FIRST-LAST...
//
// One request after another with the default http.Client, so one
// keep-alive connection is reused and each id costs one round trip (HTTP/2
// when the server offers it: the default Transport negotiates it by ALPN,
// and SSL_CERT_FILE, unlike a TLSClientConfig of our own, keeps that). Each
// body is decoded into a struct with just Name, and the names are printed
// in id order. "{id}" in URL_TEMPLATE is replaced by each id.
//
// The default Transport asks for gzip and inflates it behind our back, as
// it would on the internet. -identity turns that off
// (DisableCompression) so that every client in bench/run's "same data"
// settings receives the same uncompressed JSON. The CA comes from
// SSL_CERT_FILE, which Go's crypto/x509 honours.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

type pokemon struct {
	Name string `json:"name"`
}

func main() {
	identity := flag.Bool("identity", false, "ask for uncompressed bodies")
	flag.Parse()
	if flag.NArg() < 2 {
		fmt.Fprintln(os.Stderr, "usage: go_serial [-identity] URL_TEMPLATE ID|FIRST-LAST...")
		os.Exit(2)
	}
	if *identity {
		http.DefaultTransport.(*http.Transport).DisableCompression = true
	}
	template := flag.Arg(0)
	failed := false
	for _, id := range parseIDs(flag.Args()[1:]) {
		url := strings.Replace(template, "{id}", strconv.Itoa(id), 1)
		resp, err := http.Get(url)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed = true
			continue
		}
		// Read the body to the end (not just what the decoder needs) so
		// that the Transport can reuse the connection.
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		var p pokemon
		if err == nil && resp.StatusCode == http.StatusOK {
			err = json.Unmarshal(body, &p)
		}
		if err != nil || resp.StatusCode != http.StatusOK {
			fmt.Fprintf(os.Stderr, "%d: %s %v\n", id, resp.Status, err)
			failed = true
			continue
		}
		fmt.Println(p.Name)
	}
	if failed {
		os.Exit(1)
	}
}

// parseIDs turns "7" and "1-150" arguments into a list of ids.
func parseIDs(args []string) []int {
	var ids []int
	for _, a := range args {
		lo, hi, isRange := strings.Cut(a, "-")
		first, err1 := strconv.Atoi(lo)
		last, err2 := first, error(nil)
		if isRange {
			last, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || last < first {
			fmt.Fprintf(os.Stderr, "bad id or range %q\n", a)
			os.Exit(2)
		}
		for id := first; id <= last; id++ {
			ids = append(ids, id)
		}
	}
	return ids
}
