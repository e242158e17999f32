package bot_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The domain imports no I/O library, and of ours only templates and the
// pure roster and classifier.
func TestDomainImportsNoIO(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "gridbot/bot").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{
		"github.com/gin-gonic/", "github.com/jmoiron/sqlx", "github.com/redis/",
		"github.com/silenceper/", "github.com/go-sql-driver/", "modernc.org/sqlite",
		"database/sql", "net/http", "gridbot/store", "gridbot/handlers", "gridbot/bot/wecom",
		"github.com/xuri/excelize", "gridbot/bot/roster/rosterxlsx",
	}
	allowed := map[string]bool{"gridbot/bot": true, "gridbot/templates": true, "gridbot/bot/roster": true, "gridbot/bot/classify": true}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("gridbot/bot depends on %s", dep)
			}
		}
		if strings.HasPrefix(dep, "gridbot/") && !allowed[dep] {
			t.Errorf("gridbot/bot depends on %s; only templates and the pure roster and classify packages are allowed", dep)
		}
	}
}
