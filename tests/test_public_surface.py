import gateway


def test_public_names_are_exactly_the_documented_ones() -> None:
    assert sorted(gateway.__all__) == ["ConfigError", "Settings", "__version__", "create_app"]
    for name in gateway.__all__:
        assert hasattr(gateway, name)
