package e2e

import (
	"os"
	"testing"

	"sesame/internal/testenv"
)

// TestMain runs the suite on servers with the embedded store, then on
// PostgreSQL-backed servers, and removes the sesame binary it built.
func TestMain(m *testing.M) { os.Exit(testenv.MainBothStores(m)) }
