package rosterxlsx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/paulmach/orb/geojson"
	"github.com/xuri/excelize/v2"

	"gridbot/bot/roster"
)

// Template returns an empty roster workbook: every sheet with its headers and
// one example row. The example rows form a valid one-district roster, so the
// template itself parses.
func Template() ([]byte, error) {
	data := map[string][][]string{}
	for _, s := range sheets() {
		data[s.name] = [][]string{s.example}
	}
	var buf bytes.Buffer
	if err := write(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write exports r in the template's layout; Parse reads it back into an
// equal Roster. References are written as ids, roles and partner kinds as
// their Chinese labels, polygons as GeoJSON.
func Write(w io.Writer, r *roster.Roster) error {
	data := map[string][][]string{}
	add := func(sheet string, cells ...string) { data[sheet] = append(data[sheet], cells) }

	sd := r.Subdistrict
	add(SheetSubdistrict, sd.Name, sd.Code, formatFloat(sd.Center[0]), formatFloat(sd.Center[1]))
	for _, d := range r.Districts {
		add(SheetDistricts, d.ID, d.Name)
	}
	for _, c := range r.Communities {
		add(SheetCommunities, c.ID, c.Name, c.District)
	}
	for _, g := range r.Grids {
		geo, err := json.Marshal(geojson.NewGeometry(g.Polygon))
		if err != nil {
			return fmt.Errorf("rosterxlsx: grid %s: %w", g.ID, err)
		}
		add(SheetGrids, g.ID, g.Name, g.District, g.Community, string(geo))
	}
	labels := roleLabels()
	for _, p := range r.People {
		roles := make([]string, len(p.Roles))
		for i, role := range p.Roles {
			roles[i] = labels[role]
		}
		add(SheetPeople, p.UserID, p.Name, p.Phone, strings.Join(roles, ","), p.District, p.Grid,
			string(p.Dept), strings.Join(p.Communities, ","))
	}
	for _, p := range r.Partners {
		kind := string(p.Kind)
		if p.Kind == roster.KindOther {
			kind = kindOther
		}
		add(SheetPartners, p.ID, p.Name, kind, p.Contact, p.Phone, p.District, p.Community)
	}
	for _, c := range r.Chats {
		add(SheetChats, c.ID, c.Name, c.District, c.Robot)
	}
	return write(w, data)
}

// write builds the workbook: the sheets in template order, a bold frozen
// header row, every cell as text (so phone numbers and ids stay as typed).
func write(w io.Writer, data map[string][][]string) error {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("rosterxlsx: %w", err)
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": cells typed in later stay text
	if err != nil {
		return fmt.Errorf("rosterxlsx: %w", err)
	}
	for i, s := range sheets() {
		if i == 0 {
			err = f.SetSheetName(f.GetSheetName(0), s.name)
		} else {
			_, err = f.NewSheet(s.name)
		}
		if err != nil {
			return fmt.Errorf("rosterxlsx: sheet %s: %w", s.name, err)
		}
		headers := make([]string, len(s.columns))
		for j, c := range s.columns {
			headers[j] = c.header
			col, err := excelize.ColumnNumberToName(j + 1)
			if err != nil {
				return fmt.Errorf("rosterxlsx: %w", err)
			}
			if err := f.SetColWidth(s.name, col, col, c.width); err != nil {
				return fmt.Errorf("rosterxlsx: %w", err)
			}
			if err := f.SetColStyle(s.name, col, text); err != nil {
				return fmt.Errorf("rosterxlsx: %w", err)
			}
		}
		rows := append([][]string{headers}, data[s.name]...)
		for j, cells := range rows {
			cell, err := excelize.CoordinatesToCellName(1, j+1)
			if err != nil {
				return fmt.Errorf("rosterxlsx: %w", err)
			}
			if err := f.SetSheetRow(s.name, cell, &cells); err != nil {
				return fmt.Errorf("rosterxlsx: sheet %s row %d: %w", s.name, j+1, err)
			}
		}
		if err := f.SetRowStyle(s.name, 1, 1, bold); err != nil {
			return fmt.Errorf("rosterxlsx: %w", err)
		}
		if err := f.SetPanes(s.name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return fmt.Errorf("rosterxlsx: %w", err)
		}
	}
	f.SetActiveSheet(0)
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("rosterxlsx: %w", err)
	}
	return nil
}

// formatFloat writes a coordinate exactly (it parses back to the same float).
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
