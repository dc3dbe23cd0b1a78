package e2e

import (
	"os"
	"testing"

	"sesame/internal/testenv"
)

// TestMain removes the sesame binary the tests built once they are done.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
