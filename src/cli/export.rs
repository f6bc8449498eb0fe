use std::io::{BufWriter, Write};
use std::process::ExitCode;

use crate::model::DeliveryStatus;
use crate::sanitize::{csv_cell, csv_io_error};
use crate::store::report::DeliveryRecord;

use super::{ExportFormat, TimeArgs, open_read_only_store};

pub fn deliveries(
    db: Option<&str>,
    statuses: &[DeliveryStatus],
    format: ExportFormat,
    times: &TimeArgs,
) -> anyhow::Result<ExitCode> {
    let store = open_read_only_store(db)?;
    times.resolve(&store)?;
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    let result = match format {
        ExportFormat::Jsonl => store.for_each_delivery(statuses, |rec| {
            crate::sanitize::json_line(&mut out, &rec)?;
            out.write_all(b"\n")
        })?,
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            match w.write_record(DeliveryRecord::FIELDS) {
                Ok(()) => {
                    let r = store.for_each_delivery(statuses, |rec| {
                        let values = rec.values();
                        w.write_record(values.iter().map(|v| csv_cell(v).into_owned()))
                            .map_err(csv_io_error)
                    })?;
                    r.and_then(|_| w.flush())
                }
                Err(e) => Err(csv_io_error(e)),
            }
        }
    };
    match result.and_then(|_| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}
