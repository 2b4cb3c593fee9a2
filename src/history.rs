//! Alert and failure history, the downtime log and `historicfile`, in mon's formats.
