// A panel's data as CSV (RFC 4180), as the server returned it: raw numbers and ISO times, one
// header row of column names, like Grafana's Inspect -> Data -> Download CSV.

function cell(value) {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(result) {
  const lines = [result.columns.map((c) => cell(c.name)).join(',')];
  for (const row of result.rows) lines.push(row.map(cell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function downloadCsv(name, text) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  link.download = `${name.replace(/[^\w.-]+/g, '-').replace(/^-|-$/g, '').toLowerCase() || 'panel'}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
