-- Photos are looked up by token among work orders' after-photos: which depot may see a photo
-- (/staff/photos) and which photos nothing names any more (retention).
CREATE INDEX work_orders_after_photo ON work_orders (after_photo);
