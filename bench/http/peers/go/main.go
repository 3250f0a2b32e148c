// The Go peer of bench/http: GET /plaintext and GET /json on net/http with its
// defaults, everything else 404 (405 for another method on a known path).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

type message struct {
	Message string `json:"message"`
}

// only answers the one method and path a handler is for.
func only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}

func plaintext(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("Hello, World!"))
}

func jsonHandler(w http.ResponseWriter, _ *http.Request) {
	// Serialized per request, like the other peers.
	body, err := json.Marshal(message{Message: "Hello, World!"})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func main() {
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0 = any free port)")
	flag.Parse()
	if flag.NArg() != 0 || *port < 0 || *port > 65535 {
		flag.Usage()
		os.Exit(2)
	}

	mux := http.NewServeMux()
	// A pattern without a trailing slash matches that path only; the rest get the mux's 404.
	mux.HandleFunc("/plaintext", only(http.MethodGet, plaintext))
	mux.HandleFunc("/json", only(http.MethodGet, jsonHandler))

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	server := &http.Server{Handler: mux}

	// SIGTERM or SIGINT: close the listener and the connections, then exit 0.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		_ = server.Close()
	}()

	// The listening socket already queues connections; Serve accepts them from here on.
	fmt.Printf("listening on http://127.0.0.1:%d/\n", ln.Addr().(*net.TCPAddr).Port)
	if err := server.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
