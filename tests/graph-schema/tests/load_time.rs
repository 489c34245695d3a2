//! Times the first parse of the v1.0 CSDL. Alone in its own test binary so
//! that the measured call really is the first one.

use std::time::{Duration, Instant};

use graph_schema::Schema;

#[test]
fn first_v1_load_is_fast_enough_for_tests() {
    let started = Instant::now();
    let schema = Schema::v1();
    let elapsed = started.elapsed();
    println!("first Schema::v1() load: {elapsed:?} ({schema:?})");
    assert!(schema.structured_type("entity").is_some());
    // Generous bound: it guards against accidental quadratic work, not CPU noise.
    assert!(
        elapsed < Duration::from_secs(10),
        "CSDL parse took {elapsed:?}"
    );

    let started = Instant::now();
    Schema::v1();
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "second call must not parse again"
    );

    let started = Instant::now();
    let beta = Schema::beta();
    println!("first Schema::beta() load: {:?}", started.elapsed());
    assert!(beta.names("entity").is_some());
}
