"""The hash an unknown name is checked against costs what a real password's hash costs."""

from werkzeug.security import check_password_hash, generate_password_hash

from hotline.identity import _DUMMY_HASH


def test_the_unknown_names_hash_has_the_method_and_cost_of_a_new_password():
    method = generate_password_hash("热线-Pass-2026").split("$", 1)[0]
    assert _DUMMY_HASH.split("$", 1)[0] == method
    assert check_password_hash(_DUMMY_HASH, "not-a-password-of-anyone")
