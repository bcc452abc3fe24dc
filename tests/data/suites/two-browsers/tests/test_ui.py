def test_title(page):
    page.set_content("<title>two browsers</title>")
    assert page.title() == "two browsers"
