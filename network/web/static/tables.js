// Tables a phone can read: each body cell is named after its column (data-label, from the
// table's heading row) and the table is marked "stacks", so wallet.css can show every row as
// labelled lines on a narrow screen instead of a table to scroll sideways. Without this script
// (or on a wide screen) the tables are the plain tables they were. Tables of two columns or
// fewer fit a phone as they are and are left alone.
(function () {
  function names(row) {
    var found = [];
    for (var i = 0; i < row.cells.length; i++) {
      var cell = row.cells[i];
      for (var k = 0; k < (cell.colSpan || 1); k++) {
        found.push(cell.colSpan > 1 ? "" : cell.textContent.replace(/\s+/g, " ").trim());
      }
    }
    return found;
  }

  function label(table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) {
      return;
    }
    var columns = names(head);
    if (columns.length < 3) {
      return;
    }
    for (var b = 0; b < table.tBodies.length; b++) {
      var rows = table.tBodies[b].rows;
      for (var r = 0; r < rows.length; r++) {
        var column = 0;
        for (var c = 0; c < rows[r].cells.length; c++) {
          var cell = rows[r].cells[c];
          var name = (cell.colSpan || 1) > 1 ? "" : columns[column];
          if (name) {
            cell.setAttribute("data-label", name);
          }
          column += cell.colSpan || 1;
        }
      }
    }
    table.classList.add("stacks");
  }

  var tables = document.querySelectorAll("table");
  for (var t = 0; t < tables.length; t++) {
    label(tables[t]);
  }
})();
