package store

import (
	"context"
	"io/fs"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// schema is tables → sorted column names, and tables → sorted index names.
type schema struct {
	columns map[string][]string
	indexes map[string][]string
}

func TestMigrationFoldersMatch(t *testing.T) {
	lite, err := fs.Glob(migrations, "migrations/sqlite/*.sql")
	must(t, err)
	my, err := fs.Glob(migrations, "migrations/mysql/*.sql")
	must(t, err)
	base := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, p[strings.LastIndex(p, "/")+1:])
		}
		return out
	}
	if len(lite) == 0 || !slices.Equal(base(lite), base(my)) {
		t.Fatalf("migration files differ:\n sqlite %v\n mysql  %v", base(lite), base(my))
	}
	forbidden := regexp.MustCompile(`(?i)\b(FOREIGN\s+KEY|REFERENCES|CREATE\s+TRIGGER|CREATE\s+PROCEDURE|CREATE\s+FUNCTION)\b`)
	for _, p := range append(lite, my...) {
		b, err := fs.ReadFile(migrations, p)
		must(t, err)
		s := string(b)
		if !strings.Contains(s, "-- +goose Up") || !strings.Contains(s, "-- +goose Down") {
			t.Errorf("%s: missing a -- +goose Up or Down annotation", p)
		}
		if m := forbidden.FindString(s); m != "" {
			t.Errorf("%s: uses %q; the schema has no foreign keys, triggers or procedures (TiDB)", p, m)
		}
	}
}

// TestMigrationDialectsMatch migrates a fresh SQLite and compares its tables,
// columns and indexes with what the MySQL files create.
func TestMigrationDialectsMatch(t *testing.T) {
	e := openSQLite(t)
	got := sqliteSchema(t, e.db)
	want := parseMySQLSchema(t)
	compareSchemas(t, "sqlite", got, "mysql files", want)

	t.Run("live mysql", func(t *testing.T) {
		m := openMySQL(t)
		compareSchemas(t, "sqlite", got, "mysql", mysqlSchema(t, m.db))
	})
}

func compareSchemas(t *testing.T, aName string, a schema, bName string, b schema) {
	t.Helper()
	for _, table := range union(slices.Collect(maps.Keys(a.columns)), slices.Collect(maps.Keys(b.columns))) {
		if !slices.Equal(a.columns[table], b.columns[table]) {
			t.Errorf("table %s columns:\n %-11s %v\n %-11s %v", table, aName, a.columns[table], bName, b.columns[table])
		}
		if !slices.Equal(a.indexes[table], b.indexes[table]) {
			t.Errorf("table %s indexes:\n %-11s %v\n %-11s %v", table, aName, a.indexes[table], bName, b.indexes[table])
		}
	}
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	sort.Strings(out)
	return slices.Compact(out)
}

func sqliteSchema(t *testing.T, db *DB) schema {
	t.Helper()
	s := schema{columns: map[string][]string{}, indexes: map[string][]string{}}
	var tables []string
	must(t, db.db.SelectContext(t.Context(), &tables,
		`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('sqlite_sequence', 'goose_db_version')`))
	for _, table := range tables {
		var cols []string
		must(t, db.db.SelectContext(t.Context(), &cols, `SELECT name FROM pragma_table_info(?)`, table))
		sort.Strings(cols)
		s.columns[table] = cols
		var idx []string
		must(t, db.db.SelectContext(t.Context(), &idx,
			`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name NOT LIKE 'sqlite_autoindex_%'`, table))
		sort.Strings(idx)
		if len(idx) > 0 {
			s.indexes[table] = idx
		}
	}
	return s
}

func mysqlSchema(t *testing.T, db *DB) schema {
	t.Helper()
	s := schema{columns: map[string][]string{}, indexes: map[string][]string{}}
	var cols []struct {
		Table  string `db:"table_name"`
		Column string `db:"column_name"`
	}
	must(t, db.db.SelectContext(t.Context(), &cols, `SELECT table_name AS table_name, column_name AS column_name
		FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name <> 'goose_db_version'`))
	for _, c := range cols {
		s.columns[c.Table] = append(s.columns[c.Table], c.Column)
	}
	var idx []struct {
		Table string `db:"table_name"`
		Index string `db:"index_name"`
	}
	must(t, db.db.SelectContext(t.Context(), &idx, `SELECT DISTINCT table_name AS table_name, index_name AS index_name
		FROM information_schema.statistics
		WHERE table_schema = DATABASE() AND table_name <> 'goose_db_version' AND index_name <> 'PRIMARY'`))
	for _, i := range idx {
		s.indexes[i.Table] = append(s.indexes[i.Table], i.Index)
	}
	for _, m := range []map[string][]string{s.columns, s.indexes} {
		for _, v := range m {
			sort.Strings(v)
		}
	}
	return s
}

// parseMySQLSchema reads table, column and index names from the CREATE TABLE
// and CREATE INDEX statements of the MySQL migrations (Up sections only).
func parseMySQLSchema(t *testing.T) schema {
	t.Helper()
	s := schema{columns: map[string][]string{}, indexes: map[string][]string{}}
	createRe := regexp.MustCompile(`(?is)CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?` + "`?" + `(\w+)` + "`?" + `\s*\((.*?)\)\s*ENGINE`)
	colRe := regexp.MustCompile("^`?(\\w+)`?\\s+\\w+")
	keyRe := regexp.MustCompile("(?i)^(?:UNIQUE\\s+)?(?:KEY|INDEX)\\s+`?(\\w+)`?")
	indexRe := regexp.MustCompile("(?i)CREATE\\s+(?:UNIQUE\\s+)?INDEX\\s+`?(\\w+)`?\\s+ON\\s+`?(\\w+)`?")
	paths, err := fs.Glob(migrations, "migrations/mysql/*.sql")
	must(t, err)
	for _, p := range paths {
		b, err := fs.ReadFile(migrations, p)
		must(t, err)
		up, _, _ := strings.Cut(string(b), "-- +goose Down")
		for _, m := range createRe.FindAllStringSubmatch(up, -1) {
			table := m[1]
			var cols, idx []string
			for line := range strings.SplitSeq(m[2], "\n") {
				line = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(line), ","))
				upper := strings.ToUpper(line)
				switch {
				case line == "" || strings.HasPrefix(line, "--"):
				case strings.HasPrefix(upper, "PRIMARY KEY"), strings.HasPrefix(upper, "CONSTRAINT"):
				case keyRe.MatchString(line):
					idx = append(idx, keyRe.FindStringSubmatch(line)[1])
				case colRe.MatchString(line):
					cols = append(cols, colRe.FindStringSubmatch(line)[1])
				default:
					t.Fatalf("%s: table %s: cannot parse line %q", p, table, line)
				}
			}
			sort.Strings(cols)
			sort.Strings(idx)
			s.columns[table] = cols
			if len(idx) > 0 {
				s.indexes[table] = idx
			}
		}
		for _, m := range indexRe.FindAllStringSubmatch(up, -1) {
			s.indexes[m[2]] = append(s.indexes[m[2]], m[1])
			sort.Strings(s.indexes[m[2]])
		}
	}
	if len(s.columns) == 0 {
		t.Fatal("no CREATE TABLE found in the MySQL migrations")
	}
	return s
}

// TestMigrateDownAndUp checks that the Down sections undo the Up sections.
func TestMigrateDownAndUp(t *testing.T) {
	forEachSQL(t, func(t *testing.T, open opener) {
		e := open(t)
		p, err := e.db.provider()
		must(t, err)
		if _, err := p.DownTo(t.Context(), 0); err != nil {
			t.Fatalf("down: %v", err)
		}
		current, latest, err := e.db.MigrationVersion(t.Context())
		must(t, err)
		if current != 0 || latest < 1 {
			t.Fatalf("after down: version %d of %d, want 0", current, latest)
		}
		must(t, e.db.Migrate(t.Context()))
		must(t, e.db.Migrate(t.Context())) // nothing pending: a no-op
		current, latest, err = e.db.MigrationVersion(t.Context())
		must(t, err)
		if current != latest {
			t.Fatalf("after up: version %d of %d", current, latest)
		}
	})
}

// TestConcurrentMigrate starts several instances on one empty MySQL database
// at once: the migration lock lets exactly one apply each migration.
func TestConcurrentMigrate(t *testing.T) {
	e := openMySQL(t)
	dropAllTables(t, e.db)
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			db, err := Open(context.Background(), Options{Driver: DriverMySQL, DSN: os.Getenv(envMySQLDSN), Migrate: true})
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	current, latest, err := e.db.MigrationVersion(t.Context())
	must(t, err)
	if current != latest {
		t.Fatalf("version %d of %d after concurrent migrations", current, latest)
	}
}
